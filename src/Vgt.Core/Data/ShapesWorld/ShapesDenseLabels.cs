namespace Vgt.Data.ShapesWorld;

/// <summary>
/// What lies where in a scene, on a g × g grid of cells: the targets of the throwaway heads that teach a vision tower
/// (the vision warm-up of `train vlm`) or a generator's conditions (the cell probe of `train vgt`) to name objects.
/// </summary>
public static class ShapesDenseLabels
{
    /// <summary>Classes of the shape label: none + the 4 shapes.</summary>
    public static int ShapeClasses => 1 + ShapesVocabulary.Shapes.Count;

    /// <summary>Classes of the colour label: none + the 8 colours.</summary>
    public static int ColorClasses => 1 + ShapesVocabulary.Colors.Count;

    /// <summary>
    /// The dense labels of one scene on the g × g token grid, row-major: per cell the shape and colour (index + 1; 0 =
    /// none) of the object whose box covers most of the cell (at least a quarter of it), and 1 where an object's box
    /// centre falls in the cell (each object has exactly one such cell: centres are ≥ 15 px apart on some axis and a
    /// cell is canvas/g = 8 px on the vision warm-up's 8 × 8 grid).
    /// </summary>
    public static (long[] Shape, long[] Color, long[] Centre) Of(ShapesScene scene, int grid, int canvas)
    {
        int n = grid * grid;
        var (shape, color, centre) = (new long[n], new long[n], new long[n]);
        var best = new double[n];
        double cell = (double)canvas / grid;
        foreach (var o in scene.Objects)
        {
            long si = 1 + ShapesVocabulary.ShapeIndex(o.Shape), ci = 1 + ShapesVocabulary.ColorIndex(o.Color);
            for (int cy = 0; cy < grid; cy++)
                for (int cx = 0; cx < grid; cx++)
                {
                    double ox = Math.Min(o.X0 + o.Side, (cx + 1) * cell) - Math.Max(o.X0, cx * cell);
                    double oy = Math.Min(o.Y0 + o.Side, (cy + 1) * cell) - Math.Max(o.Y0, cy * cell);
                    double area = Math.Max(0, ox) * Math.Max(0, oy);
                    int k = cy * grid + cx;
                    if (area >= 0.25 * cell * cell && area > best[k]) { best[k] = area; shape[k] = si; color[k] = ci; }
                }
            int x = Math.Clamp((int)Math.Floor(o.CenterX / cell), 0, grid - 1), y = Math.Clamp((int)Math.Floor(o.CenterY / cell), 0, grid - 1);
            centre[y * grid + x] = 1;
        }
        return (shape, color, centre);
    }
}
