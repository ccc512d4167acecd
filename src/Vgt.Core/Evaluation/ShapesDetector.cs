using Vgt.Data.ShapesWorld;

namespace Vgt.Evaluation;

/// <summary>One connected component the Shapes World detector kept, with the measurements behind its labels.</summary>
public sealed record ShapesComponent(
    int X, int Y, int Width, int Height, int Area,
    double Fill, double RowRatio,
    double MedianR, double MedianG, double MedianB,
    string Shape, string Color)
{
    public DetectedObject ToDetectedObject() => new(Shape, Color, X, Y, Width, Height);
}

/// <summary>
/// The exact Shapes World detector of shared/specs/shapes-world.md §7.1: background = per-channel median of the
/// border frame; foreground = RGB distance &gt; 60; objects = 4-connected components of ≥ 16 pixels; colour =
/// median of the strong pixels (distance &gt; 90) mapped to the nearest palette colour (≤ 80, else "unknown");
/// shape from aspect ratio, fill ratio and the relative row of maximum width.
/// Images of another size than 64×64 scale the minimum area by (W·H)/64².
/// </summary>
public sealed class ShapesDetector : IObjectDetector
{
    public const double ForegroundDistance = 60, StrongDistance = 90, MaxColorDistance = 80;
    public const int MinArea = 16;
    public const string Unknown = "unknown";

    public string Name => "shapes-world-v1-exact";
    public IReadOnlyList<string> Classes => ShapesVocabulary.Shapes;
    public IReadOnlyList<string> Colors => ShapesVocabulary.Colors;

    public IReadOnlyList<DetectedObject> Detect(RgbImage image) => Analyse(image).Select(c => c.ToDetectedObject()).ToList();

    /// <summary>Components in scan order (first pixel row-major), with measurements and labels.</summary>
    public IReadOnlyList<ShapesComponent> Analyse(RgbImage image)
    {
        int w = image.Width, h = image.Height;
        if (w < 3 || h < 3) throw new ArgumentException($"Image too small for the Shapes World detector: {w}×{h}.");
        var px = image.Pixels;

        // 1. Background = per-channel median of the outermost 1-pixel frame (2W + 2(H−2) pixels).
        var border = new List<int>(2 * w + 2 * h);
        for (int x = 0; x < w; x++) { border.Add(image.Offset(x, 0)); border.Add(image.Offset(x, h - 1)); }
        for (int y = 1; y < h - 1; y++) { border.Add(image.Offset(0, y)); border.Add(image.Offset(w - 1, y)); }
        double bgR = Median(border, px, 0), bgG = Median(border, px, 1), bgB = Median(border, px, 2);

        // 2. Distance of every pixel from the background; foreground = distance > 60.
        var dist = new double[w * h];
        for (int i = 0; i < w * h; i++)
        {
            double dr = px[3 * i] - bgR, dg = px[3 * i + 1] - bgG, db = px[3 * i + 2] - bgB;
            dist[i] = Math.Sqrt(dr * dr + dg * dg + db * db);
        }

        // 3. 4-connected components of the mask with area ≥ 16 (scaled for other sizes).
        double minArea = MinArea * (double)w * h / (ShapesVocabulary.CanvasSize * ShapesVocabulary.CanvasSize);
        var label = new int[w * h];
        var result = new List<ShapesComponent>();
        var stack = new Stack<int>();
        var members = new List<int>();
        int next = 0;
        for (int start = 0; start < w * h; start++)
        {
            if (dist[start] <= ForegroundDistance || label[start] != 0) continue;
            next++;
            members.Clear();
            label[start] = next;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                members.Add(i);
                int x = i % w, y = i / w;
                if (x > 0) Visit(i - 1);
                if (x < w - 1) Visit(i + 1);
                if (y > 0) Visit(i - w);
                if (y < h - 1) Visit(i + w);
            }
            if (members.Count >= minArea) result.Add(Describe(members, w, px, dist));
        }
        return result;

        void Visit(int j)
        {
            if (label[j] != 0 || dist[j] <= ForegroundDistance) return;
            label[j] = next;
            stack.Push(j);
        }
    }

    static ShapesComponent Describe(List<int> members, int w, byte[] px, double[] dist)
    {
        // 4. Colour: median over the strong pixels (all pixels when none are strong), nearest palette colour.
        var strong = members.Where(i => dist[i] > StrongDistance).Select(i => 3 * i).ToList();
        if (strong.Count == 0) strong = members.Select(i => 3 * i).ToList();
        double r = Median(strong, px, 0), g = Median(strong, px, 1), b = Median(strong, px, 2);
        string color = Unknown;
        double best = double.MaxValue;
        foreach (var name in ShapesVocabulary.Colors)
        {
            double d = ShapesVocabulary.Palette(name).DistanceTo(r, g, b);
            if (d < best) { best = d; color = name; }
        }
        if (best > MaxColorDistance) color = Unknown;

        // 5. Shape: bounding box, fill ratio, relative position of the (topmost) widest row.
        int minX = int.MaxValue, minY = int.MaxValue, maxX = int.MinValue, maxY = int.MinValue;
        foreach (int i in members)
        {
            int x = i % w, y = i / w;
            minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
            minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
        }
        int bw = maxX - minX + 1, bh = maxY - minY + 1;
        var rowWidth = new int[bh];
        foreach (int i in members) rowWidth[i / w - minY]++;
        int widest = 0;
        for (int row = 1; row < bh; row++) if (rowWidth[row] > rowWidth[widest]) widest = row;
        double fill = members.Count / (double)(bw * bh);
        double rowRatio = (widest + 0.5) / bh;
        string shape = ClassifyShape(bw, bh, fill, rowRatio);
        return new ShapesComponent(minX, minY, bw, bh, members.Count, fill, rowRatio, r, g, b, shape, color);
    }

    /// <summary>The shape rule of §7.1 step 5.</summary>
    public static string ClassifyShape(int width, int height, double fill, double rowRatio)
    {
        double aspect = width / (double)height;
        if (aspect < 0.6 || aspect > 1.67) return Unknown;
        if (fill >= 0.92) return "square";
        if (fill >= 0.68) return "circle";
        if (rowRatio >= 0.75) return "triangle";
        if (rowRatio >= 0.3 && rowRatio <= 0.7) return "diamond";
        return Unknown;
    }

    /// <summary>Median of one channel over pixels given by byte offsets (mean of the two middle values for even counts, as numpy).</summary>
    static double Median(List<int> offsets, byte[] px, int channel)
    {
        var v = new int[offsets.Count];
        for (int i = 0; i < v.Length; i++) v[i] = px[offsets[i] + channel];
        Array.Sort(v);
        int n = v.Length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    }
}
