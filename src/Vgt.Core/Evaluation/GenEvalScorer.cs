using System.Globalization;

namespace Vgt.Evaluation;

/// <summary>Whether one image satisfies its metadata, and if not, the first clause that failed.</summary>
public sealed record ImageVerdict(bool Correct, string Reason);

/// <summary>
/// GenEval's per-image rules (shared/specs/shapes-world.md §7.2–§7.3) over a list of detected objects.
/// </summary>
public static class GenEvalScorer
{
    /// <summary>Below this magnitude both shrunk components count as zero: no relation holds.</summary>
    public const double MinOffset = 1e-3;

    public static ImageVerdict Judge(GenEvalMetadata metadata, IReadOnlyList<DetectedObject> detected)
    {
        var groups = new List<List<DetectedObject>>();
        for (int k = 0; k < metadata.Include.Count; k++)
        {
            var clause = metadata.Include[k];
            var candidates = detected.Where(o => o.Class == clause.Class && (clause.Color is null || o.Color == clause.Color)).ToList();
            string what = clause.Color is null ? clause.Class : $"{clause.Color} {clause.Class}";
            if (candidates.Count < clause.Count)
                return new(false, $"include[{k}]: found {candidates.Count} {what}, need {clause.Count}");
            if (clause.Position is { } pos)
            {
                foreach (var a in candidates)
                    foreach (var b in groups[pos.Group])
                        if (!Relations(a, b).Contains(pos.Relation))
                            return new(false, $"include[{k}]: {what} at ({Fmt(a.CenterX)}, {Fmt(a.CenterY)}) is not {pos.Relation} {b.Class} at ({Fmt(b.CenterX)}, {Fmt(b.CenterY)})");
            }
            groups.Add(candidates);
        }
        foreach (var (clause, k) in (metadata.Exclude ?? []).Select((c, k) => (c, k)))
        {
            int n = detected.Count(o => o.Class == clause.Class);
            if (n >= clause.Count) return new(false, $"exclude[{k}]: found {n} {clause.Class}, must be fewer than {clause.Count}");
        }
        return new(true, "correct");
    }

    /// <summary>
    /// GenEval's normalised direction from B to A (§7.3): offset = centre(A) − centre(B), each axis shrunk towards zero
    /// by 0.1·(size_A + size_B) on that axis, then divided by its length; null when both shrunk components are below 1e−3.
    /// </summary>
    public static (double Dx, double Dy)? Direction(double ax, double ay, double aw, double ah, double bx, double by, double bw, double bh)
    {
        double ox = Shrink(ax - bx, 0.1 * (aw + bw));
        double oy = Shrink(ay - by, 0.1 * (ah + bh));
        if (Math.Abs(ox) < MinOffset && Math.Abs(oy) < MinOffset) return null;
        double len = Math.Sqrt(ox * ox + oy * oy);
        return (ox / len, oy / len);
    }

    static double Shrink(double v, double by) => Math.Sign(v) * Math.Max(Math.Abs(v) - by, 0);

    /// <summary>The relations that hold for A against B ("left of" if dx &lt; −0.5, …; image y grows downwards). Several may hold.</summary>
    public static IReadOnlyList<string> Relations(DetectedObject a, DetectedObject b) =>
        Relations(Direction(a.CenterX, a.CenterY, a.Width, a.Height, b.CenterX, b.CenterY, b.Width, b.Height));

    public static IReadOnlyList<string> Relations((double Dx, double Dy)? direction)
    {
        if (direction is not { } d) return [];
        var list = new List<string>(2);
        if (d.Dx < -0.5) list.Add("left of");
        if (d.Dx > 0.5) list.Add("right of");
        if (d.Dy < -0.5) list.Add("above");
        if (d.Dy > 0.5) list.Add("below");
        return list;
    }

    /// <summary>The signed normalised component along a relation (positive = in the relation's direction), 0 when no direction.</summary>
    public static double Component(string relation, (double Dx, double Dy)? direction)
    {
        if (direction is not { } d) return 0;
        return relation switch
        {
            "left of" => -d.Dx,
            "right of" => d.Dx,
            "above" => -d.Dy,
            "below" => d.Dy,
            _ => throw new ArgumentException($"Unknown relation '{relation}'; expected one of: {string.Join(", ", GenEvalMetadata.Relations)}."),
        };
    }

    static string Fmt(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
