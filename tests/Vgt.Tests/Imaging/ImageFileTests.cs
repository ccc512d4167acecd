using SkiaSharp;
using Vgt.Imaging;
using static TorchSharp.torch;
using static Vgt.Tests.Imaging.TestImages;

namespace Vgt.Tests.Imaging;

public class ImageFileTests : IDisposable
{
    private readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Tensor RandomImage(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var rgb = new byte[width * height * 3];
        rng.NextBytes(rgb);
        return ImageTensor.FromRgbBytes(rgb, width, height);
    }

    /// <summary>Smooth colour gradients (what JPEG and lossy WebP are built for).</summary>
    private static Tensor SmoothImage(int width, int height) =>
        FromPixels(width, height, (x, y) => ((byte)(255 * x / (width - 1)), (byte)(255 * y / (height - 1)), (byte)(128 + 100 * Math.Sin(x * 0.1 + y * 0.07))));

    private static float MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    private static float MeanAbsDiff(Tensor a, Tensor b) => (a - b).abs().mean().item<float>();

    // ------------------------------------------------------------ round trips

    [Fact]
    public void PngRoundTripIsExact()
    {
        using var scope = NewDisposeScope();
        var image = RandomImage(37, 23, seed: 1);
        var path = Path.Combine(_dir, "a.png");
        ImageFile.Save(image, path);
        var back = ImageFile.Load(path);
        Assert.Equal(new long[] { 3, 23, 37 }, back.shape);
        Assert.Equal(0f, MaxAbsDiff(image, back));
        Assert.Equal(SKEncodedImageFormat.Png, ImageFile.ReadHeader(path).Format);
    }

    [Fact]
    public void WebpLosslessRoundTripIsExactAndLossyIsClose()
    {
        using var scope = NewDisposeScope();
        var noisy = RandomImage(29, 31, seed: 2);
        var path = Path.Combine(_dir, "a.webp");
        ImageFile.Save(noisy, path, new ImageSaveOptions { Lossless = true });
        Assert.Equal(SKEncodedImageFormat.Webp, ImageFile.ReadHeader(path).Format);
        Assert.Equal(0f, MaxAbsDiff(noisy, ImageFile.Load(path)));

        var smooth = SmoothImage(64, 48);
        var lossy = ImageFile.Load(ImageFile.Encode(smooth, new ImageSaveOptions { Format = ImageFileFormat.Webp, Quality = 90 }));
        float mae = MeanAbsDiff(smooth, lossy);
        Assert.InRange(mae, 1e-5f, 0.03f); // lossy: not exact, but close (0.03 ≈ 2 grey levels)
    }

    [Fact]
    public void JpegRoundTripIsClose()
    {
        using var scope = NewDisposeScope();
        var smooth = SmoothImage(64, 48);
        var path = Path.Combine(_dir, "a.JPG");
        ImageFile.Save(smooth, path, new ImageSaveOptions { Quality = 95 });
        Assert.Equal(SKEncodedImageFormat.Jpeg, ImageFile.ReadHeader(path).Format);
        var back = ImageFile.Load(path);
        Assert.Equal(new long[] { 3, 48, 64 }, back.shape);
        float mae = MeanAbsDiff(smooth, back);
        Assert.InRange(mae, 1e-5f, 0.03f);
        // Lower quality is further away.
        var low = ImageFile.Load(ImageFile.Encode(smooth, new ImageSaveOptions { Format = ImageFileFormat.Jpeg, Quality = 10 }));
        Assert.True(MeanAbsDiff(smooth, low) > mae);
    }

    [Fact]
    public void LoadFromStreamAndBytesMatchesFile()
    {
        using var scope = NewDisposeScope();
        var image = RandomImage(8, 5, seed: 3);
        var bytes = ImageFile.Encode(image, new ImageSaveOptions { Format = ImageFileFormat.Png });
        using var stream = new MemoryStream(bytes);
        Assert.Equal(0f, MaxAbsDiff(image, ImageFile.Load(stream)));
        Assert.Equal(0f, MaxAbsDiff(image, ImageFile.Load(bytes)));
    }

    // ------------------------------------------------------------ exact decoding of hand-made PNGs

    [Fact]
    public void DecodesHandMadeRgbPngToExactValues()
    {
        using var scope = NewDisposeScope();
        // 3×2 RGB, 8-bit: row 0 = (0,0,0) (255,255,255) (1,2,3); row 1 = (254,128,127) (10,20,30) (200,100,50)
        var png = Png(3, 2, 8, 2,
        [
            [0, 0, 0, 255, 255, 255, 1, 2, 3],
            [254, 128, 127, 10, 20, 30, 200, 100, 50],
        ]);
        var t = ImageFile.Load(png);
        Assert.Equal(new long[] { 3, 2, 3 }, t.shape);
        Assert.Equal(-1f, At(t, 0, 0, 0));
        Assert.Equal(1f, At(t, 1, 0, 1));
        Assert.Equal(Unit(3), At(t, 2, 0, 2));
        Assert.Equal(Unit(254), At(t, 0, 1, 0));
        Assert.Equal(Unit(128), At(t, 1, 1, 0));
        Assert.Equal(Unit(127), At(t, 2, 1, 0));
        Assert.Equal(Unit(20), At(t, 1, 1, 1));
        Assert.Equal(Unit(50), At(t, 2, 1, 2));
    }

    [Fact]
    public void GreyscalePngBecomesRgbWithEqualChannels()
    {
        using var scope = NewDisposeScope();
        var t = ImageFile.Load(Png(4, 1, 8, 0, [[0, 77, 200, 255]]));
        Assert.Equal(new long[] { 3, 1, 4 }, t.shape);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(-1f, At(t, c, 0, 0));
            Assert.Equal(Unit(77), At(t, c, 0, 1));
            Assert.Equal(Unit(200), At(t, c, 0, 2));
            Assert.Equal(1f, At(t, c, 0, 3));
        }
    }

    [Fact]
    public void PalettePngDecodesThroughItsPalette()
    {
        using var scope = NewDisposeScope();
        byte[] plte = [10, 20, 30, 200, 150, 100, 0, 255, 0];
        // 2-bit indices: 2, 0, 1, 2 packed MSB first = 10 00 01 10
        var t = ImageFile.Load(Png(4, 1, 2, 3, [[0b10_00_01_10]], ("PLTE", plte)));
        float[] expectR = [Unit(0), Unit(10), Unit(200), Unit(0)];
        float[] expectG = [Unit(255), Unit(20), Unit(150), Unit(255)];
        for (int x = 0; x < 4; x++)
        {
            Assert.Equal(expectR[x], At(t, 0, 0, x));
            Assert.Equal(expectG[x], At(t, 1, 0, x));
        }
    }

    [Fact]
    public void AlphaIsCompositedOverWhiteOrDropped()
    {
        using var scope = NewDisposeScope();
        // RGBA: transparent black, opaque red, half-transparent blue (alpha 51 = 0.2)
        var png = Png(3, 1, 8, 6, [[0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255, 51]]);
        var over = ImageFile.Load(png);
        for (int c = 0; c < 3; c++) Assert.Equal(1f, At(over, c, 0, 0)); // fully transparent → white
        Assert.Equal(1f, At(over, 0, 0, 1));
        Assert.Equal(-1f, At(over, 1, 0, 1));
        // blue over white at a = 0.2: R = G = 255·0.8 = 204, B = 255
        Assert.Equal(Unit(204), At(over, 0, 0, 2), 5);
        Assert.Equal(Unit(204), At(over, 1, 0, 2), 5);
        Assert.Equal(1f, At(over, 2, 0, 2));

        var dropped = ImageFile.Load(png, new ImageLoadOptions { Alpha = AlphaHandling.Drop });
        for (int c = 0; c < 3; c++) Assert.Equal(-1f, At(dropped, c, 0, 0));
        Assert.Equal(-1f, At(dropped, 0, 0, 2));
        Assert.Equal(1f, At(dropped, 2, 0, 2));

        // Grey + alpha (colour type 4): grey 100 at alpha 0 → white; grey 100 opaque → 100.
        var ga = ImageFile.Load(Png(2, 1, 8, 4, [[100, 0, 100, 255]]));
        Assert.Equal(1f, At(ga, 1, 0, 0));
        Assert.Equal(Unit(100), At(ga, 1, 0, 1));
    }

    [Fact]
    public void SixteenBitPngKeepsMoreThanEightBits()
    {
        using var scope = NewDisposeScope();
        // 16-bit RGB, 2 pixels: (1000, 32768, 65535), (0, 257·77, 65534). 1000/65535 is not a multiple of 1/255.
        ushort[] v = [1000, 32768, 65535, 0, 257 * 77, 65534];
        var row = v.SelectMany(s => new[] { (byte)(s >> 8), (byte)s }).ToArray();
        var t = ImageFile.Load(Png(2, 1, 16, 2, [row]));
        float Expect(int s) => (float)(2.0 * s / 65535 - 1);
        // SkiaSharp decodes 16-bit PNGs to half floats: the error bound is 2^-11 in [−1, 1] units near ±1.
        const float halfBound = 4.9e-4f;
        Assert.InRange(At(t, 0, 0, 0) - Expect(1000), -1e-4f, 1e-4f);
        Assert.Equal(0f, At(t, 1, 0, 0));                                  // 32768/65535 ≈ 0.500008 → half 0.5
        Assert.Equal(1f, At(t, 2, 0, 0));
        Assert.Equal(-1f, At(t, 0, 0, 1));
        Assert.InRange(At(t, 1, 0, 1) - Unit(77), -halfBound, halfBound);
        Assert.InRange(At(t, 2, 0, 1) - Expect(65534), -halfBound, halfBound);
        // An 8-bit decode keeps the high byte (1000 >> 8 = 3): an error of 7e-3 that this path does not have.
        Assert.True(Math.Abs(At(t, 0, 0, 0) - Unit(3)) > 5e-3);
        Assert.True(Math.Abs(At(t, 0, 0, 0) - Unit(4)) > 5e-4);
    }

    // ------------------------------------------------------------ EXIF orientation

    /// <summary>16×32 (H×W) quadrants: TL red, TR green, BL blue, BR white — big flat blocks survive JPEG.</summary>
    private static Tensor Quadrants() => FromPixels(32, 16, (x, y) => (x < 16, y < 8) switch
    {
        (true, true) => (255, 0, 0),
        (false, true) => (0, 255, 0),
        (true, false) => (0, 0, 255),
        _ => (255, 255, 255),
    });

    private static string ColourAt(Tensor t, int y, int x)
    {
        var (r, g, b) = (At(t, 0, y, x) > 0, At(t, 1, y, x) > 0, At(t, 2, y, x) > 0);
        return (r, g, b) switch
        {
            (true, false, false) => "red",
            (false, true, false) => "green",
            (false, false, true) => "blue",
            (true, true, true) => "white",
            _ => "?",
        };
    }

    [Theory]
    [InlineData(1, 16, 32, "red", "green", "blue", "white")]
    [InlineData(3, 16, 32, "white", "blue", "green", "red")]   // rotate 180°
    [InlineData(6, 32, 16, "blue", "red", "white", "green")]   // rotate 90° clockwise
    [InlineData(8, 32, 16, "green", "white", "red", "blue")]   // rotate 90° anticlockwise
    [InlineData(2, 16, 32, "green", "red", "white", "blue")]   // mirror left–right
    [InlineData(5, 32, 16, "red", "blue", "green", "white")]   // transpose
    public void JpegExifOrientationIsApplied(int orientation, int h, int w, string tl, string tr, string bl, string br)
    {
        using var scope = NewDisposeScope();
        var jpeg = ImageFile.Encode(Quadrants(), new ImageSaveOptions { Format = ImageFileFormat.Jpeg, Quality = 95 });
        var path = Path.Combine(_dir, $"exif{orientation}.jpg");
        File.WriteAllBytes(path, WithExifOrientation(jpeg, (ushort)orientation));

        var header = ImageFile.ReadHeader(path);
        Assert.Equal((SKEncodedOrigin)orientation, header.Origin);
        Assert.Equal((w, h), (header.Width, header.Height));

        var t = ImageFile.Load(path);
        Assert.Equal(new long[] { 3, h, w }, t.shape);
        Assert.Equal([tl, tr, bl, br], new[] { ColourAt(t, h / 4, w / 4), ColourAt(t, h / 4, 3 * w / 4), ColourAt(t, 3 * h / 4, w / 4), ColourAt(t, 3 * h / 4, 3 * w / 4) });

        var stored = ImageFile.Load(path, new ImageLoadOptions { ApplyExifOrientation = false });
        Assert.Equal(new long[] { 3, 16, 32 }, stored.shape);
        Assert.Equal("red", ColourAt(stored, 4, 8));
    }

    // ------------------------------------------------------------ refusals

    [Fact]
    public void PngBombHeaderIsRefusedBeforeDecoding()
    {
        // A valid signature and IHDR (correct CRC) claiming 50000×50000 RGBA, then nothing at all.
        byte[] bomb = [.. PngSignature, .. Chunk("IHDR", Ihdr(50000, 50000, 8, 6))];
        var path = Path.Combine(_dir, "bomb.png");
        File.WriteAllBytes(path, bomb);
        var e = Assert.Throws<ImageTooLargeException>(() => ImageFile.Load(path));
        Assert.Equal(path, e.FileName);
        Assert.Equal((50000, 50000), (e.Width, e.Height));
        Assert.Equal(64_000_000, e.MaxPixels);
        Assert.Contains("64,000,000", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("2,500,000,000 pixels", e.Message);

        // Same with a (tiny, bogus) IDAT and IEND present.
        byte[] withData = [.. bomb, .. Chunk("IDAT", [0x78, 0x9C, 0x03, 0x00]), .. Chunk("IEND", [])];
        Assert.Throws<ImageTooLargeException>(() => ImageFile.Load(withData));
    }

    [Fact]
    public void JpegBombHeaderIsRefusedFromTheCodecHeader()
    {
        using var scope = NewDisposeScope();
        var jpeg = ImageFile.Encode(RandomImage(16, 16, seed: 10), new ImageSaveOptions { Format = ImageFileFormat.Jpeg });
        // Patch the baseline SOF0 segment (FF C0, length, precision, height, width) to claim 60000×60000.
        int sof = jpeg.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xC0]);
        Assert.True(sof > 0);
        jpeg[sof + 5] = 60000 >> 8; jpeg[sof + 6] = 60000 & 0xFF;
        jpeg[sof + 7] = 60000 >> 8; jpeg[sof + 8] = 60000 & 0xFF;
        var e = Assert.Throws<ImageTooLargeException>(() => ImageFile.Load(jpeg));
        Assert.Equal((60000, 60000), (e.Width, e.Height));
    }

    [Fact]
    public void PixelLimitIsCheckedFromTheCodecHeaderForEveryFormat()
    {
        using var scope = NewDisposeScope();
        var image = RandomImage(20, 10, seed: 4);
        foreach (var format in new[] { ImageFileFormat.Jpeg, ImageFileFormat.Webp, ImageFileFormat.Png })
        {
            var bytes = ImageFile.Encode(image, new ImageSaveOptions { Format = format });
            var e = Assert.Throws<ImageTooLargeException>(() => ImageFile.Load(bytes, new ImageLoadOptions { MaxPixels = 199 }));
            Assert.Equal((20, 10), (e.Width, e.Height));
            Assert.Equal(new long[] { 3, 10, 20 }, ImageFile.Load(bytes, new ImageLoadOptions { MaxPixels = 200 }).shape);
        }
    }

    [Theory]
    [InlineData(ImageFileFormat.Png)]
    [InlineData(ImageFileFormat.Jpeg)]
    [InlineData(ImageFileFormat.Webp)]
    public void TruncatedFilesAreRefusedNamingTheFile(ImageFileFormat format)
    {
        using var scope = NewDisposeScope();
        var bytes = ImageFile.Encode(RandomImage(64, 64, seed: 5), new ImageSaveOptions { Format = format, Quality = 90 });
        foreach (double keep in new[] { 0.6, 0.1 })
        {
            var path = Path.Combine(_dir, $"cut{keep}.{format}");
            File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);
            var e = Assert.Throws<ImageFormatException>(() => ImageFile.Load(path, new ImageLoadOptions()));
            Assert.Equal(path, e.FileName);
            Assert.Contains(path, e.Message);
            Assert.Contains("truncated", e.Message);
        }
        // Only the first bytes of the header.
        var stub = Assert.Throws<ImageFormatException>(() => ImageFile.Load(bytes[..20]));
        Assert.Contains("truncated", stub.Message);
    }

    [Fact]
    public void RandomBytesAndEmptyFilesAreRefused()
    {
        var noise = new byte[4096];
        new Random(6).NextBytes(noise);
        var path = Path.Combine(_dir, "noise.png");
        File.WriteAllBytes(path, noise);
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.Load(path));
        Assert.Contains("not a recognised image", e.Message);
        Assert.Equal(path, e.FileName);

        var empty = Path.Combine(_dir, "empty.jpg");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", Assert.Throws<ImageFormatException>(() => ImageFile.Load(empty)).Message);

        Assert.Throws<FileNotFoundException>(() => ImageFile.Load(Path.Combine(_dir, "missing.png")));
    }

    [Fact]
    public void CorruptPngDataIsRefused()
    {
        using var scope = NewDisposeScope();
        var bytes = ImageFile.Encode(RandomImage(32, 32, seed: 7), new ImageSaveOptions { Format = ImageFileFormat.Png });
        // Break the IHDR CRC: refused by the header check.
        var badHeader = (byte[])bytes.Clone();
        badHeader[30] ^= 0xFF;
        Assert.Contains("IHDR CRC", Assert.Throws<ImageFormatException>(() => ImageFile.Load(badHeader)).Message);
        // Overwrite the middle of the compressed data: the zlib stream (or its CRC) no longer checks out.
        var badData = (byte[])bytes.Clone();
        for (int i = 0; i < 64; i++) badData[bytes.Length / 2 + i] = 0xFF;
        Assert.Throws<ImageFormatException>(() => ImageFile.Load(badData));
    }

    [Fact]
    public void StreamLongerThanMaxBytesIsRefused()
    {
        using var stream = new MemoryStream(new byte[5000]);
        var e = Assert.Throws<ImageFormatException>(() => ImageFile.Load(stream, new ImageLoadOptions { MaxBytes = 4096 }, "upload"));
        Assert.Equal("upload", e.FileName);
        Assert.Contains("MaxBytes", e.Message);
    }

    // ------------------------------------------------------------ saving

    [Fact]
    public void SaveClampsOutOfRangeValues()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new float[] { -3f, 2f, 0f, 0.999f, -1.0001f, 1f }, new long[] { 3, 1, 2 });
        var back = ImageFile.Load(ImageFile.Encode(t, new ImageSaveOptions { Format = ImageFileFormat.Png }));
        Assert.Equal(new[] { -1f, 1f, Unit(128), 1f, -1f, 1f }, back.data<float>().ToArray());
    }

    [Fact]
    public void FailedSaveLeavesTheOldFileAndNoTempFiles()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "keep.png");
        ImageFile.Save(RandomImage(4, 4, seed: 8), path);
        var before = File.ReadAllBytes(path);

        var bad = full(new long[] { 3, 4, 4 }, float.NaN);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => ImageFile.Save(bad, path)).Message);
        Assert.Throws<ArgumentException>(() => ImageFile.Save(RandomImage(4, 4, 9), Path.Combine(_dir, "x.tiff")));
        Assert.Throws<ArgumentException>(() => ImageFile.Save(RandomImage(4, 4, 9), Path.Combine(_dir, "x.jpg"),
            new ImageSaveOptions { PngText = new Dictionary<string, string> { ["a"] = "b" } }));
        Assert.Throws<ArgumentException>(() => ImageFile.Save(zeros(4, 4), Path.Combine(_dir, "x.png")));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "keep.png" }, Directory.GetFiles(_dir).Select(f => Path.GetFileName(f)).ToArray());
    }

    [Fact]
    public void ApplyOriginMatchesTheDocumentedRotations()
    {
        using var scope = NewDisposeScope();
        var t = arange(6, dtype: ScalarType.Float32).reshape(1, 2, 3); // [[0,1,2],[3,4,5]]
        float[] Flat(SKEncodedOrigin o) => ImageFile.ApplyOrigin(t, o).contiguous().data<float>().ToArray();
        Assert.Equal(new float[] { 3, 0, 4, 1, 5, 2 }, Flat(SKEncodedOrigin.RightTop));    // 90° clockwise: [[3,0],[4,1],[5,2]]
        Assert.Equal(new float[] { 2, 5, 1, 4, 0, 3 }, Flat(SKEncodedOrigin.LeftBottom));  // 90° anticlockwise
        Assert.Equal(new float[] { 5, 4, 3, 2, 1, 0 }, Flat(SKEncodedOrigin.BottomRight)); // 180°
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, Flat(SKEncodedOrigin.LeftTop));     // transpose
        Assert.Equal(new float[] { 5, 2, 4, 1, 3, 0 }, Flat(SKEncodedOrigin.RightBottom)); // transverse
        Assert.Equal(new float[] { 3, 4, 5, 0, 1, 2 }, Flat(SKEncodedOrigin.BottomLeft));  // mirror top–bottom
        Assert.Equal(new float[] { 2, 1, 0, 5, 4, 3 }, Flat(SKEncodedOrigin.TopRight));    // mirror left–right
    }
}
