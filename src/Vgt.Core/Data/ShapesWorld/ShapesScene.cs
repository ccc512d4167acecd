namespace Vgt.Data.ShapesWorld;

/// <summary>
/// One object of a scene: its shape, palette colour name, the jittered colour actually drawn, and its integer
/// s × s box (X0, Y0, X0+Side, Y0+Side) in 64-pixel canvas units.
/// </summary>
public sealed record SceneObject(string Shape, string Color, Rgb Fill, int X0, int Y0, int Side)
{
    public double CenterX => X0 + Side / 2.0;
    public double CenterY => Y0 + Side / 2.0;

    /// <summary>True when the two boxes are separated by at least <paramref name="gap"/> pixels on at least one axis.</summary>
    public bool SeparatedFrom(SceneObject o, int gap) =>
        X0 + Side + gap <= o.X0 || o.X0 + o.Side + gap <= X0 || Y0 + Side + gap <= o.Y0 || o.Y0 + o.Side + gap <= Y0;
}

/// <summary>A rendered-to-be scene: the prompt it was sampled for, the uniform background and the objects.</summary>
public sealed record ShapesScene(ShapesPrompt Prompt, Rgb Background, IReadOnlyList<SceneObject> Objects);
