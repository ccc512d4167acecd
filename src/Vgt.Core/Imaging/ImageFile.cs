using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SkiaSharp;
using Vgt.IO;
using static TorchSharp.torch;

namespace Vgt.Imaging;

/// <summary>Encoded image formats that VGT.NET writes (and the main ones it reads).</summary>
public enum ImageFileFormat
{
    Png,
    Jpeg,
    Webp,
}

/// <summary>Limits and choices for decoding.</summary>
public sealed record ImageLoadOptions
{
    public static readonly ImageLoadOptions Default = new();

    /// <summary>Largest width·height accepted; checked from the header before any pixel memory is allocated. 64 MP (64,000,000) by default.</summary>
    public long MaxPixels { get; init; } = 64_000_000;

    /// <summary>Largest encoded size read from a file or stream, in bytes. 256 MiB by default.</summary>
    public long MaxBytes { get; init; } = 256L << 20;

    /// <summary>How translucent pixels become RGB; composited over white by default.</summary>
    public AlphaHandling Alpha { get; init; } = AlphaHandling.CompositeOverWhite;

    /// <summary>Rotate/flip as the EXIF orientation says (JPEG, also PNG/WebP with EXIF). On by default.</summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>Upper bound for <see cref="MaxPixels"/>: 16-bit RGBA of this many pixels still fits one .NET array.</summary>
    public const long PixelLimitCeiling = 250_000_000;

    public void Validate()
    {
        if (MaxPixels is < 1 or > PixelLimitCeiling) throw new ArgumentOutOfRangeException(nameof(MaxPixels), MaxPixels, $"MaxPixels must be in 1..{PixelLimitCeiling:N0}.");
        if (MaxBytes is < 1 or > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(MaxBytes), MaxBytes, $"MaxBytes must be in 1..{int.MaxValue:N0}.");
    }
}

/// <summary>Choices for encoding.</summary>
public sealed record ImageSaveOptions
{
    /// <summary>Format; null = from the file extension (.png, .jpg/.jpeg, .webp).</summary>
    public ImageFileFormat? Format { get; init; }

    /// <summary>JPEG and lossy WebP quality, 1..100 (for lossless WebP: compression effort). 95 by default.</summary>
    public int Quality { get; init; } = 95;

    /// <summary>WebP only: lossless encoding (exact 8-bit round trip).</summary>
    public bool Lossless { get; init; }

    /// <summary>PNG only: text entries (iTXt) to store.</summary>
    public IReadOnlyDictionary<string, string>? PngText { get; init; }

    /// <summary>PNG only: generation parameters to store (JSON iTXt + human-readable "parameters").</summary>
    public GenerationParameters? Parameters { get; init; }
}

/// <summary>What a file's header says, read without decoding pixels.</summary>
/// <param name="Width">Width as displayed (after the EXIF orientation).</param>
/// <param name="Height">Height as displayed (after the EXIF orientation).</param>
public sealed record ImageHeader(SKEncodedImageFormat Format, int Width, int Height, SKEncodedOrigin Origin);

/// <summary>
/// Image files ↔ float tensors [3, H, W] in [−1, 1] (RGB, channels first; 8-bit v ↦ v/127.5 − 1).
/// Decoding (SkiaSharp) reads PNG, JPEG and WebP (also GIF — first frame — and BMP); it checks the pixel count in
/// the header before decoding, refuses corrupt and truncated data with <see cref="ImageFormatException"/>,
/// applies the EXIF orientation, expands grey/palette images to RGB, keeps 16-bit precision, and composites alpha
/// over white (or drops it). Encoding writes PNG, JPEG or WebP atomically, with optional PNG text.
/// </summary>
public static class ImageFile
{
    private static readonly SKEncodedImageFormat[] Readable =
        [SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Webp, SKEncodedImageFormat.Gif, SKEncodedImageFormat.Bmp];

    // ---------------------------------------------------------------- loading

    /// <summary>Decodes an image file → [3, H, W] in [−1, 1].</summary>
    public static Tensor Load(string path, ImageLoadOptions? options = null)
    {
        options ??= ImageLoadOptions.Default;
        options.Validate();
        return Decode(ReadFile(path, options.MaxBytes), options, path);
    }

    /// <summary>Decodes an image read from a stream (up to <see cref="ImageLoadOptions.MaxBytes"/>).</summary>
    public static Tensor Load(Stream stream, ImageLoadOptions? options = null, string source = "<stream>")
    {
        options ??= ImageLoadOptions.Default;
        options.Validate();
        return Decode(ReadStream(stream, options.MaxBytes, source), options, source);
    }

    /// <summary>Decodes encoded image bytes.</summary>
    public static Tensor Load(byte[] bytes, ImageLoadOptions? options = null, string source = "<bytes>")
    {
        options ??= ImageLoadOptions.Default;
        options.Validate();
        if (bytes.LongLength > options.MaxBytes) throw new ImageFormatException(source, $"it is {bytes.LongLength:N0} bytes, above ImageLoadOptions.MaxBytes = {options.MaxBytes:N0}");
        return Decode(bytes, options, source);
    }

    /// <summary>
    /// Format, displayed size and orientation, reading only the start of the file and decoding no pixels
    /// (no pixel limit is applied; handy for scanning datasets).
    /// </summary>
    public static ImageHeader ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file not found: {path}", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 14);
        var prefix = new byte[16];
        prefix = prefix[..stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false)];
        if (prefix.Length == 0)
        {
            stream.Dispose();
            throw new ImageFormatException(path, "the file is empty");
        }
        stream.Position = 0;
        using var codec = OpenCodec(stream, prefix, path);
        var info = codec.Info;
        var origin = codec.EncodedOrigin;
        bool swap = SwapsAxes(origin);
        return new ImageHeader(codec.EncodedFormat, swap ? info.Height : info.Width, swap ? info.Width : info.Height, origin);
    }

    private static Tensor Decode(byte[] bytes, ImageLoadOptions options, string source)
    {
        if (bytes.Length == 0) throw new ImageFormatException(source, "the file is empty");
        int pngBitDepth = CheckPngHeader(bytes, options.MaxPixels, source);
        CheckRiffLength(bytes, source);
        using var codec = OpenCodec(new MemoryStream(bytes, writable: false), bytes, source);
        var info = codec.Info;
        CheckPixelCount(info.Width, info.Height, options.MaxPixels, source);
        var origin = options.ApplyExifOrientation ? codec.EncodedOrigin : SKEncodedOrigin.TopLeft;

        Tensor image;
        if (pngBitDepth == 16 && TryDecodeHalf(codec, source) is { } rgbaHalf)
            image = ImageTensor.FromRgbaF16(rgbaHalf, info.Width, info.Height, options.Alpha);
        else
        {
            var dst = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            var pixels = new byte[(long)info.Width * info.Height * 4];
            CheckDecodeResult(GetPixels(codec, dst, pixels), source);
            image = ImageTensor.FromRgba8888(pixels, info.Width, info.Height, options.Alpha);
        }
        if (origin is SKEncodedOrigin.TopLeft) return image;
        using (image) return ApplyOrigin(image, origin);
    }

    /// <summary>A codec over <paramref name="stream"/> (which it owns); <paramref name="prefix"/> = the first bytes, for error messages.</summary>
    private static SKCodec OpenCodec(Stream stream, ReadOnlySpan<byte> prefix, string source)
    {
        var codec = SKCodec.Create(stream, out var result);
        if (codec is null)
        {
            stream.Dispose();
            string kind = SniffFormat(prefix) is { } f ? $"{f} " : "";
            throw new ImageFormatException(source, result switch
            {
                SKCodecResult.IncompleteInput => $"truncated: the {kind}header is incomplete",
                SKCodecResult.Unimplemented or SKCodecResult.InvalidInput when kind.Length == 0 =>
                    "not a recognised image (expected PNG, JPEG, WebP, GIF or BMP)",
                _ => $"corrupt {kind}header ({result})",
            });
        }
        if (!Readable.Contains(codec.EncodedFormat))
        {
            var format = codec.EncodedFormat;
            codec.Dispose();
            throw new ImageFormatException(source, $"unsupported image format {format} (expected PNG, JPEG, WebP, GIF or BMP)");
        }
        return codec;
    }

    /// <summary>
    /// Decodes a 16-bit PNG to half floats (SkiaSharp offers no 16-bit integer or fp32 output): about 11 bits kept
    /// instead of the 8 that an 8-bit decode keeps (by dropping the low byte). Null when the codec refuses.
    /// </summary>
    private static Half[]? TryDecodeHalf(SKCodec codec, string source)
    {
        var info = codec.Info;
        var pixels = new Half[(long)info.Width * info.Height * 4];
        var dst = new SKImageInfo(info.Width, info.Height, SKColorType.RgbaF16, SKAlphaType.Unpremul);
        var result = GetPixels(codec, dst, pixels);
        if (result is SKCodecResult.InvalidConversion) return null;
        CheckDecodeResult(result, source);
        return pixels;
    }

    private static SKCodecResult GetPixels(SKCodec codec, SKImageInfo dst, Array pixels)
    {
        var pin = GCHandle.Alloc(pixels, GCHandleType.Pinned);
        try
        {
            return codec.GetPixels(dst, pin.AddrOfPinnedObject());
        }
        finally
        {
            pin.Free();
        }
    }

    private static void CheckDecodeResult(SKCodecResult result, string source)
    {
        switch (result)
        {
            case SKCodecResult.Success: return;
            case SKCodecResult.IncompleteInput: throw new ImageFormatException(source, "truncated: the image data ends before the last row");
            case SKCodecResult.ErrorInInput: throw new ImageFormatException(source, "corrupt image data (the decoder hit an error part-way)");
            case SKCodecResult.InvalidInput: throw new ImageFormatException(source, "corrupt or truncated image data (the decoder rejected it)");
            default: throw new ImageFormatException(source, $"decoding failed ({result})");
        }
    }

    private static void CheckPixelCount(long width, long height, long maxPixels, string source)
    {
        if (width <= 0 || height <= 0) throw new ImageFormatException(source, $"invalid size {width}×{height} in the header");
        if (width * height > maxPixels) throw new ImageTooLargeException(source, width, height, maxPixels);
    }

    /// <summary>
    /// PNG: reads the IHDR size (checking its CRC) before the file reaches libpng, so a decompression bomb is refused
    /// even when its data is missing or malformed. Returns the PNG bit depth, or 0 when the bytes are not PNG.
    /// </summary>
    private static int CheckPngHeader(byte[] bytes, long maxPixels, string source)
    {
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(PngText.Signature)) return 0;
        if (bytes.Length < 33) throw new ImageFormatException(source, "truncated: the PNG header is incomplete");
        var ihdr = bytes.AsSpan(8, 25);
        if (BinaryPrimitives.ReadUInt32BigEndian(ihdr) != 13 || !ihdr.Slice(4, 4).SequenceEqual("IHDR"u8))
            throw new ImageFormatException(source, "corrupt PNG header (the first chunk is not a 13-byte IHDR)");
        uint stored = BinaryPrimitives.ReadUInt32BigEndian(ihdr.Slice(21, 4));
        uint computed = Crc32.Compute(ihdr.Slice(4, 17));
        if (stored != computed) throw new ImageFormatException(source, $"corrupt PNG header (IHDR CRC stored 0x{stored:X8}, computed 0x{computed:X8})");
        long width = BinaryPrimitives.ReadUInt32BigEndian(ihdr.Slice(8, 4));
        long height = BinaryPrimitives.ReadUInt32BigEndian(ihdr.Slice(12, 4));
        CheckPixelCount(width, height, maxPixels, source);
        return ihdr[16];
    }

    /// <summary>WebP: the RIFF header states the file size, so a cut file is reported as truncated before decoding.</summary>
    private static void CheckRiffLength(byte[] bytes, string source)
    {
        if (bytes.Length < 12 || !bytes.AsSpan(0, 4).SequenceEqual("RIFF"u8) || !bytes.AsSpan(8, 4).SequenceEqual("WEBP"u8)) return;
        long declared = 8L + BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4, 4));
        if (declared > bytes.Length)
            throw new ImageFormatException(source, $"truncated: the WebP header declares {declared:N0} bytes but only {bytes.Length:N0} are present");
    }

    private static string? SniffFormat(ReadOnlySpan<byte> b) =>
        b.StartsWith(PngText.Signature) ? "PNG"
        : b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "JPEG"
        : b.Length >= 12 && b.StartsWith("RIFF"u8) && b.Slice(8, 4).SequenceEqual("WEBP"u8) ? "WebP"
        : b.StartsWith("GIF8"u8) ? "GIF"
        : b.StartsWith("BM"u8) ? "BMP"
        : null;

    private static byte[] ReadFile(string path, long maxBytes)
    {
        var file = new FileInfo(path);
        if (!file.Exists) throw new FileNotFoundException($"Image file not found: {path}", path);
        if (file.Length > maxBytes) throw new ImageFormatException(path, $"the file is {file.Length:N0} bytes, above ImageLoadOptions.MaxBytes = {maxBytes:N0}");
        return File.ReadAllBytes(path);
    }

    private static byte[] ReadStream(Stream stream, long maxBytes, string source)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + n > maxBytes) throw new ImageFormatException(source, $"the stream is longer than ImageLoadOptions.MaxBytes = {maxBytes:N0}");
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    // ---------------------------------------------------------------- orientation

    private static bool SwapsAxes(SKEncodedOrigin o) =>
        o is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>
    /// Turns stored pixels [C, H, W] into displayed pixels for an EXIF origin (the corner where the stored first
    /// row/column is displayed): e.g. RightTop (EXIF 6) = rotate 90° clockwise, LeftBottom (EXIF 8) = 90° anticlockwise.
    /// </summary>
    internal static Tensor ApplyOrigin(Tensor image, SKEncodedOrigin origin) => origin switch
    {
        SKEncodedOrigin.TopLeft => image.alias(),
        SKEncodedOrigin.TopRight => image.flip(-1),                              // mirror left–right
        SKEncodedOrigin.BottomRight => image.flip(-2, -1),                       // rotate 180°
        SKEncodedOrigin.BottomLeft => image.flip(-2),                            // mirror top–bottom
        SKEncodedOrigin.LeftTop => image.transpose(-2, -1).contiguous(),         // transpose
        SKEncodedOrigin.RightTop => image.transpose(-2, -1).flip(-1),            // rotate 90° clockwise
        SKEncodedOrigin.RightBottom => image.transpose(-2, -1).flip(-2, -1),     // transverse
        SKEncodedOrigin.LeftBottom => image.transpose(-2, -1).flip(-2),          // rotate 90° anticlockwise
        _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "Unknown EXIF origin."),
    };

    // ---------------------------------------------------------------- saving

    /// <summary>The format a file extension names (.png, .jpg, .jpeg, .webp; case-insensitive).</summary>
    public static ImageFileFormat FormatFromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => ImageFileFormat.Png,
        ".jpg" or ".jpeg" => ImageFileFormat.Jpeg,
        ".webp" => ImageFileFormat.Webp,
        var ext => throw new ArgumentException($"Cannot tell the image format from the extension '{ext}' of '{path}'; use .png, .jpg, .jpeg or .webp, or set ImageSaveOptions.Format."),
    };

    /// <summary>Encodes [3, H, W] in [−1, 1] and writes it atomically (temp file + rename): an interrupted save leaves no partial file.</summary>
    public static void Save(Tensor image, string path, ImageSaveOptions? options = null)
    {
        options ??= new ImageSaveOptions();
        var bytes = Encode(image, options with { Format = options.Format ?? FormatFromExtension(path) });
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Saves a PNG with the generation parameters in its text chunks.</summary>
    public static void Save(Tensor image, string path, GenerationParameters parameters) =>
        Save(image, path, new ImageSaveOptions { Parameters = parameters });

    /// <summary>
    /// Encodes [3, H, W] in [−1, 1] (values outside are clamped; NaN/∞ refused). PNG is lossless 8-bit RGB;
    /// JPEG uses 4:2:0 chroma subsampling.
    /// </summary>
    public static byte[] Encode(Tensor image, ImageSaveOptions options)
    {
        var format = options.Format ?? throw new ArgumentException("ImageSaveOptions.Format must be set to encode to bytes.");
        if (options.Quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(options), options.Quality, "Quality must be in 1..100.");
        bool hasText = options.PngText is { Count: > 0 } || options.Parameters is not null;
        if (hasText && format != ImageFileFormat.Png) throw new ArgumentException($"PNG text and generation parameters can only be stored in PNG files, not {format}.");
        if (options.Lossless && format != ImageFileFormat.Webp) throw new ArgumentException("Lossless applies to WebP only (PNG is always lossless).");
        if (image.dim() != 3 || image.shape[0] != 3 || image.shape[1] < 1 || image.shape[2] < 1)
            throw new ArgumentException($"Expected an image tensor [3, H, W], got [{string.Join(", ", image.shape)}].");
        using (var finite = image.isfinite().all())
            if (!finite.item<bool>()) throw new ArgumentException("The image tensor contains NaN or infinite values.");

        using var bitmap = ImageTensor.ToBitmap(image);
        using var pixmap = bitmap.PeekPixels();
        using var data = format switch
        {
            ImageFileFormat.Png => pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 6)),
            ImageFileFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(options.Quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore)),
            ImageFileFormat.Webp => pixmap.Encode(new SKWebpEncoderOptions(options.Lossless ? SKWebpEncoderCompression.Lossless : SKWebpEncoderCompression.Lossy, options.Quality)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), format, "Unknown format."),
        } ?? throw new InvalidOperationException($"SkiaSharp could not encode a {bitmap.Width}×{bitmap.Height} image as {format}.");
        var bytes = data.ToArray();
        if (!hasText) return bytes;

        var entries = new List<PngTextEntry>();
        if (options.PngText is not null) entries.AddRange(options.PngText.Select(e => new PngTextEntry(e.Key, e.Value)));
        if (options.Parameters is not null) entries.AddRange(options.Parameters.ToPngText());
        return PngText.Write(bytes, entries);
    }
}
