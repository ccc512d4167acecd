using System.Globalization;

namespace Vgt.Data.ShapesWorld;

/// <summary>One object of a layout plan: colour, shape, centre cell on the plan grid and size class.</summary>
public sealed record PlannedObject(string Color, string Shape, int CellX, int CellY, int SizeClass);

/// <summary>
/// The layout plan of a scene (the text a generator with a plan writes before its image, see
/// <c>LayoutPlanConfig</c>): the objects in the order a raster scan over the image tokens first meets them, each
/// "{colour} {shape} {x}{y}{s}" with the box centre's cell on an 8 × 8 grid of 8-pixel cells (x, y in 0–7) and the size
/// class s = (side − 12) / 3 (0: 12–14 px, 1: 15–17, 2: 18–20), joined with ", ": "red square 352, blue circle 615".
/// One digit per number keeps the plan to about six tokens per object with the Shapes World tokenizer. The coordinates
/// are in the spec's 64-pixel canvas units whatever the rendered size.
/// </summary>
public static class ShapesLayoutPlan
{
    /// <summary>Cells per side of the plan grid.</summary>
    public const int Cells = 8;

    private const int CellPixels = ShapesVocabulary.CanvasSize / Cells;

    /// <summary>The scene's objects in raster first-token order (<see cref="ShapesText.RasterKey"/>).</summary>
    public static IReadOnlyList<SceneObject> RasterOrder(ShapesScene scene, int tokenPixels) =>
        scene.Objects.OrderBy(o => ShapesText.RasterKey(o, tokenPixels)).ToList();

    /// <summary>The plan text of <paramref name="scene"/> for image tokens of <paramref name="tokenPixels"/> canvas pixels.</summary>
    public static string Text(ShapesScene scene, int tokenPixels) =>
        string.Join(", ", RasterOrder(scene, tokenPixels).Select(o => Entry(Of(o))));

    public static PlannedObject Of(SceneObject o) =>
        new(o.Color, o.Shape, Cell(o.CenterX), Cell(o.CenterY), Math.Clamp((o.Side - ShapesVocabulary.MinSide) / 3, 0, 2));

    public static string Entry(PlannedObject p) => string.Create(CultureInfo.InvariantCulture, $"{p.Color} {p.Shape} {p.CellX}{p.CellY}{p.SizeClass}");

    /// <summary>
    /// Reads a plan back (for display and checks): entries separated by ", ", each "{colour} {shape} {x}{y}{s}" with
    /// known words and digits in range. Null when the text is not a well-formed plan (a sampled plan can be malformed).
    /// </summary>
    public static IReadOnlyList<PlannedObject>? Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var result = new List<PlannedObject>();
        foreach (var entry in text.Split(", "))
        {
            var parts = entry.Split(' ');
            if (parts.Length != 3 || !ShapesVocabulary.Colors.Contains(parts[0]) || !ShapesVocabulary.Shapes.Contains(parts[1])) return null;
            var d = parts[2];
            if (d.Length != 3 || !d.All(char.IsAsciiDigit)) return null;
            int x = d[0] - '0', y = d[1] - '0', s = d[2] - '0';
            if (x >= Cells || y >= Cells || s > 2) return null;
            result.Add(new PlannedObject(parts[0], parts[1], x, y, s));
        }
        return result;
    }

    private static int Cell(double centre) => Math.Clamp((int)(centre / CellPixels), 0, Cells - 1);
}
