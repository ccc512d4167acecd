using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

/// <summary>
/// Every palette colour at its lowest and highest possible contrast against a spec background (grey 200..245 ± 6,
/// colour ± 10 per channel), every shape, every size: the detector must read the right shape and colour.
/// </summary>
public class ExtremeContrastTests
{
    /// <summary>(object colour, background) pairs of minimal and maximal RGB distance for a palette colour.</summary>
    static IEnumerable<(Rgb Fill, Rgb Background, double Distance)> Extremes(string color)
    {
        var p = ShapesVocabulary.Palette(color);
        (Rgb, Rgb, double)? best = null, worst = null;
        for (int g = ShapesVocabulary.BackgroundMin; g <= ShapesVocabulary.BackgroundMax; g++)
        {
            var near = new (int F, int B)[3];
            var far = new (int F, int B)[3];
            int[] pc = [p.R, p.G, p.B];
            for (int c = 0; c < 3; c++)
            {
                int nearD = int.MaxValue, farD = -1;
                for (int j = -10; j <= 10; j++)
                    for (int u = -6; u <= 6; u++)
                    {
                        int f = Math.Clamp(pc[c] + j, 0, 255), b = g + u, d = Math.Abs(f - b);
                        if (d < nearD) { nearD = d; near[c] = (f, b); }
                        if (d > farD) { farD = d; far[c] = (f, b); }
                    }
            }
            foreach (var (set, isNear) in new[] { (near, true), (far, false) })
            {
                var fill = new Rgb((byte)set[0].F, (byte)set[1].F, (byte)set[2].F);
                var bg = new Rgb((byte)set[0].B, (byte)set[1].B, (byte)set[2].B);
                double d = fill.DistanceTo(bg.R, bg.G, bg.B);
                if (isNear && (best is null || d < best.Value.Item3)) best = (fill, bg, d);
                if (!isNear && (worst is null || d > worst.Value.Item3)) worst = (fill, bg, d);
            }
        }
        yield return best!.Value;
        yield return worst!.Value;
    }

    [Fact]
    public void LowestContrastIsPinkOnADarkBackground()
    {
        var all = ShapesVocabulary.Colors.SelectMany(c => Extremes(c).Select(e => (c, e.Distance))).ToList();
        var lowest = all.MinBy(x => x.Distance);
        Assert.Equal("pink", lowest.c);
        Assert.Equal(78.31, lowest.Distance, 2); // foreground needs coverage > 60/78.3 = 0.766
        Assert.Equal(327.78, all.Max(x => x.Distance), 2);
    }

    [Fact]
    public void EveryColourShapeAndSizeIsReadAtBothExtremes()
    {
        var detector = new ShapesDetector();
        var wrong = new List<string>();
        foreach (var color in ShapesVocabulary.Colors)
            foreach (var (fill, bg, d) in Extremes(color))
                foreach (var shape in ShapesVocabulary.Shapes)
                    for (int s = ShapesVocabulary.MinSide; s <= ShapesVocabulary.MaxSide; s++)
                    {
                        var found = detector.Analyse(ShapesRenderer.Render(64, bg, [(shape, 20f, 21f, (float)s, fill)]));
                        if (found.Count != 1 || found[0].Shape != shape || found[0].Color != color)
                            wrong.Add($"{color} {shape} s={s} distance {d:0.0}: " + string.Join("; ", found.Select(f => $"{f.Color} {f.Shape} fill={f.Fill:0.000}")));
                    }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
    }
}
