namespace Vgt.Imaging;

/// <summary>
/// An image (or PNG metadata) that cannot be read: corrupt, truncated, not an image, or of an unsupported
/// kind. <see cref="FileName"/> names the file (or "&lt;bytes&gt;" / "&lt;stream&gt;" for in-memory input).
/// </summary>
public class ImageFormatException(string source, string problem)
    : Exception($"Cannot read image '{source}': {problem}")
{
    public string FileName { get; } = source;
    public string Problem { get; } = problem;
}

/// <summary>An image whose header declares more pixels than <see cref="ImageLoadOptions.MaxPixels"/>; refused before decoding.</summary>
public sealed class ImageTooLargeException(string source, long width, long height, long maxPixels)
    : ImageFormatException(source,
        $"its header declares {width}×{height} = {width * height:N0} pixels, above the limit of {maxPixels:N0} " +
        "(ImageLoadOptions.MaxPixels); refused without decoding")
{
    public long Width { get; } = width;
    public long Height { get; } = height;
    public long MaxPixels { get; } = maxPixels;
}
