using SkiaSharp;
using Vgt.IO;

namespace Vgt.Evaluation;

/// <summary>An 8-bit RGB image, row-major HWC bytes: the image type the evaluation harness passes around.</summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    /// <summary>Pixels as R, G, B bytes, row by row (length Width·Height·3).</summary>
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Image size must be positive, got {width}×{height}.");
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"Expected {width * height * 3} RGB bytes for {width}×{height}, got {pixels.Length}.");
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Offset(int x, int y) => 3 * (y * Width + x);

    /// <summary>Text stored with the image when it is saved as PNG (e.g. a generator's layout plan); null = none.</summary>
    public IReadOnlyDictionary<string, string>? Text { get; init; }
}

/// <summary>
/// PNG (and JPEG) encoding and decoding of <see cref="RgbImage"/> with SkiaSharp: the one place that touches image
/// files, so that a fuller imaging API can replace it. Writes go through <see cref="AtomicFile"/>.
/// </summary>
public static class RgbImageFiles
{
    /// <summary>Writes a PNG, with the image's <see cref="RgbImage.Text"/> in tEXt/iTXt chunks.</summary>
    public static void SavePng(RgbImage image, string path)
    {
        var bytes = Encode(image, SKEncodedImageFormat.Png, 100);
        if (image.Text is { Count: > 0 } text) bytes = Imaging.PngText.Write(bytes, text);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Loads a PNG (or any format Skia decodes); throws <see cref="InvalidDataException"/> naming the file when it is unreadable.</summary>
    public static RgbImage Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file not found: {path}", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality)
    {
        using var bitmap = ToBitmap(image);
        using var data = bitmap.Encode(format, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image.Width}×{image.Height} image as {format}.");
        return data.ToArray();
    }

    public static RgbImage Decode(byte[] bytes, string source = "<bytes>")
    {
        using var codec = bytes.Length == 0 ? null : SKCodec.Create(new MemoryStream(bytes));
        if (codec is null) throw new InvalidDataException($"{source}: not a readable image (empty, corrupt or unknown format).");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
            throw new InvalidDataException($"{source}: image data is corrupt or truncated ({result}).");
        return FromBitmap(bitmap);
    }

    /// <summary>An opaque RGBA bitmap with the image's pixels (the caller disposes it).</summary>
    public static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var dst = bitmap.GetPixelSpan();
        var px = image.Pixels;
        for (int i = 0, j = 0; j < px.Length; i += 4, j += 3)
        {
            dst[i] = px[j];
            dst[i + 1] = px[j + 1];
            dst[i + 2] = px[j + 2];
            dst[i + 3] = 255;
        }
        return bitmap;
    }

    /// <summary>The RGB bytes of an opaque Rgba8888 bitmap.</summary>
    public static RgbImage FromBitmap(SKBitmap bitmap)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888) throw new ArgumentException($"Expected an Rgba8888 bitmap, got {bitmap.ColorType}.");
        var src = bitmap.GetPixelSpan();
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = src[i];
            rgb[j + 1] = src[i + 1];
            rgb[j + 2] = src[i + 2];
        }
        return new RgbImage(bitmap.Width, bitmap.Height, rgb);
    }
}
