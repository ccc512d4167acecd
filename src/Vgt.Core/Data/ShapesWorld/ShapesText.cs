using static Vgt.Data.ShapesWorld.ShapesVocabulary;

namespace Vgt.Data.ShapesWorld;

/// <summary>A question about a scene and its one-word (or caption) answer.</summary>
public sealed record QaPair(string Question, string Answer);

/// <summary>One group of a caption: <see cref="Count"/> objects (1..4) of one colour and shape.</summary>
public sealed record CaptionGroup(string Color, string Shape, int Count)
{
    /// <summary>"a red circle", "two red circles".</summary>
    public string Text => Count == 1 ? $"{Article(Color)} {Color} {Shape}" : $"{NumberWords[Count]} {Color} {Plural(Shape)}";
}

/// <summary>The understanding side of a scene (spec §6): its caption and its question–answer pairs.</summary>
public static class ShapesText
{
    /// <summary>
    /// Objects grouped by (colour, shape), groups ordered by the left edge of their leftmost member (ties: top edge),
    /// each "{count word} {colour} {noun}", joined with ", " and a final " and ".
    /// </summary>
    public static string Caption(ShapesScene scene) => CaptionLayout(scene).Caption;

    /// <summary>
    /// The caption with its groups in caption order and the character offset of each group's count word in it (the
    /// layout probe reads the position that predicts that word). No objects: "nothing", no groups.
    /// </summary>
    public static (string Caption, IReadOnlyList<CaptionGroup> Groups, int[] Starts) CaptionLayout(ShapesScene scene)
    {
        var groups = scene.Objects
            .GroupBy(o => (o.Color, o.Shape))
            .Select(g => (Group: new CaptionGroup(g.Key.Color, g.Key.Shape, g.Count()), Lead: g.OrderBy(o => o.X0).ThenBy(o => o.Y0).First()))
            .OrderBy(g => g.Lead.X0).ThenBy(g => g.Lead.Y0)
            .Select(g => g.Group)
            .ToList();
        if (groups.Count == 0) return ("nothing", groups, []);
        var text = new System.Text.StringBuilder();
        var starts = new int[groups.Count];
        for (int i = 0; i < groups.Count; i++)
        {
            if (i > 0) text.Append(i == groups.Count - 1 ? " and " : ", ");
            starts[i] = text.Length;
            text.Append(groups[i].Text);
        }
        return (text.ToString(), groups, starts);
    }

    /// <summary>
    /// The two objects of a scene with exactly two objects of different shapes, in the order a raster scan over
    /// <paramref name="tokenPixels"/> × <paramref name="tokenPixels"/> tiles first meets them: by the tile row of the top
    /// edge, then the tile column of the first top pixel (a square's left corner; the apex, top vertex or top of the disc
    /// of the others, at the box's centre column), then the left edge. Null for any other scene.
    /// </summary>
    public static (SceneObject First, SceneObject Second)? RasterOrderedPair(ShapesScene scene, int tokenPixels)
    {
        if (tokenPixels < 1) throw new ArgumentOutOfRangeException(nameof(tokenPixels), $"must be ≥ 1, got {tokenPixels}");
        if (scene.Objects.Count != 2 || scene.Objects[0].Shape == scene.Objects[1].Shape) return null;
        var (a, b) = (scene.Objects[0], scene.Objects[1]);
        return RasterKey(b, tokenPixels).CompareTo(RasterKey(a, tokenPixels)) < 0 ? (b, a) : (a, b);
    }

    /// <summary>
    /// Where a raster scan over <paramref name="tokenPixels"/>-pixel tiles first meets an object: (tile row of the top
    /// edge, tile column of the first top pixel, left edge); smaller keys are met first.
    /// </summary>
    public static (int Row, int Column, int X0) RasterKey(SceneObject o, int tokenPixels)
    {
        if (tokenPixels < 1) throw new ArgumentOutOfRangeException(nameof(tokenPixels), $"must be ≥ 1, got {tokenPixels}");
        int firstTopX = o.Shape == "square" ? o.X0 : o.X0 + o.Side / 2;   // a square's left corner; the apex / top vertex / top of the disc
        return (o.Y0 / tokenPixels, firstTopX / tokenPixels, o.X0);
    }

    /// <summary>
    /// A two-object scene told as a relation in GenEval's position wording: "a red circle left of a blue square", or
    /// without the colours ("a circle left of a square"), each with probability one half so that both the position
    /// prompts' wording and colour binding are taught. The subject (A or B) and, where two relations hold (a diagonal
    /// placement), the relation are drawn from <paramref name="rng"/>; every relation named holds under the judge's
    /// rule. Null when the scene does not have exactly two objects of different shapes, or no relation holds.
    /// </summary>
    public static string? RelationCaption(ShapesScene scene, Random rng)
    {
        if (scene.Objects.Count != 2 || scene.Objects[0].Shape == scene.Objects[1].Shape) return null;
        bool swap = rng.Next(2) == 1;
        var (a, b) = swap ? (scene.Objects[1], scene.Objects[0]) : (scene.Objects[0], scene.Objects[1]);
        var holds = ShapesSceneSampler.RelationsBetween(a, b);
        if (holds.Count == 0) return null;
        string rel = holds[rng.Next(holds.Count)];
        bool colours = rng.Next(2) == 1;
        return $"{ShapesPrompt.Np(colours ? a.Color : null, a.Shape)} {rel} {ShapesPrompt.Np(colours ? b.Color : null, b.Shape)}";
    }

    /// <summary>
    /// The question–answer pairs, in a fixed order: how many of each shape; the colour of each shape that occurs once;
    /// the shape of each colour that occurs once; every relation between every ordered pair of distinct shapes that
    /// occur once each (yes/no under the judge's rule on the drawn boxes); and "describe the image.".
    /// </summary>
    public static IReadOnlyList<QaPair> Questions(ShapesScene scene)
    {
        var qa = new List<QaPair>();
        var objects = scene.Objects;
        foreach (var s in Shapes)
        {
            int n = objects.Count(o => o.Shape == s);
            qa.Add(new($"how many {Plural(s)} are there?", NumberWords[n]));
        }
        foreach (var s in Shapes)
            if (objects.Count(o => o.Shape == s) == 1)
                qa.Add(new($"what color is the {s}?", objects.Single(o => o.Shape == s).Color));
        foreach (var c in Colors)
            if (objects.Count(o => o.Color == c) == 1)
                qa.Add(new($"what shape is the {c} object?", objects.Single(o => o.Color == c).Shape));
        var single = Shapes.Where(s => objects.Count(o => o.Shape == s) == 1).Select(s => objects.Single(o => o.Shape == s)).ToList();
        foreach (var a in single)
            foreach (var b in single)
            {
                if (a == b) continue;
                var holds = ShapesSceneSampler.RelationsBetween(a, b);
                foreach (var rel in Relations)
                    qa.Add(new($"is the {a.Shape} {rel} the {b.Shape}?", holds.Contains(rel) ? "yes" : "no"));
            }
        qa.Add(new("describe the image.", Caption(scene)));
        return qa;
    }
}
