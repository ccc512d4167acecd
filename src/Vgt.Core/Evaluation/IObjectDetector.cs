namespace Vgt.Evaluation;

/// <summary>
/// One detected object: class name, colour name ("unknown" when none fits) and its axis-aligned box in pixels
/// (x, y = top-left corner). GenEval's rules use only these.
/// </summary>
public sealed record DetectedObject(string Class, string Color, double X, double Y, double Width, double Height)
{
    public double CenterX => X + Width / 2;
    public double CenterY => Y + Height / 2;
}

/// <summary>
/// What the GenEval harness needs from a detector. Shapes World uses the exact detector of the spec
/// (<see cref="ShapesDetector"/>); a learned detector for photographs can implement the same interface.
/// </summary>
public interface IObjectDetector
{
    /// <summary>A short name reported with scores.</summary>
    string Name { get; }

    /// <summary>The class names this detector can report; metadata naming another class is refused before scoring.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>The colour names this detector can report.</summary>
    IReadOnlyList<string> Colors { get; }

    IReadOnlyList<DetectedObject> Detect(RgbImage image);
}
