using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Vgt.Imaging;
using static TorchSharp.torch;
using static Vgt.Tests.Imaging.TestImages;

namespace Vgt.Tests.Imaging;

public class PngTextTests : IDisposable
{
    private readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] TinyPng() => Png(2, 1, 8, 2, [[1, 2, 3, 4, 5, 6]]);

    /// <summary>(type, data) of every chunk, parsed here independently of the library.</summary>
    private static List<(string Type, byte[] Data)> Chunks(byte[] png)
    {
        var list = new List<(string, byte[])>();
        for (int o = 8; o < png.Length;)
        {
            int n = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(o));
            list.Add((Encoding.ASCII.GetString(png, o + 4, 4), png[(o + 8)..(o + 8 + n)]));
            o += 12 + n;
        }
        return list;
    }

    private static GenerationParameters SampleParameters(string prompt) => new()
    {
        Prompt = prompt,
        NegativePrompt = "blurry, low quality",
        Seed = 42,
        CfgScale = 4.5,
        CfgSchedule = "linear",
        Steps = 30,
        Sampler = "euler_maruyama",
        Parallel = 4,
        Order = "random",
        Width = 448,
        Height = 448,
        ModelId = "vgt-internvl3-1.6b",
        ModelVersion = "2025-11",
        LibraryVersion = "0.1.0",
        Extras = new Dictionary<string, string> { ["temperature"] = "1.0", ["checkpoint_sha256"] = "ab12" },
    };

    [Fact]
    public void Crc32MatchesKnownValues()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));       // the standard check value
        Assert.Equal(0xAE426082u, Crc32.Compute("IEND"u8));            // every PNG ends with this CRC
        var random = new byte[1000];
        new Random(1).NextBytes(random);
        Assert.Equal(BitwiseCrc(random), Crc32.Compute(random));
    }

    [Fact]
    public void TextRoundTripsAndIsInsertedBeforeIend()
    {
        var entries = new Dictionary<string, string>
        {
            ["Title"] = "plain ASCII",
            ["prompt"] = "一只戴着帽子的猫 🐱, café\nsecond line",
            ["empty"] = "",
        };
        var png = PngText.Write(TinyPng(), entries);
        var chunks = Chunks(png);
        Assert.Equal(["IHDR", "IDAT", "iTXt", "iTXt", "iTXt", "IEND"], chunks.Select(c => c.Type).ToArray());
        // iTXt layout: keyword NUL, flag 0, method 0, language NUL, translated keyword NUL, UTF-8 text
        Assert.Equal([.. "Title"u8.ToArray(), 0, 0, 0, 0, 0, .. "plain ASCII"u8.ToArray()], chunks[2].Data);

        var path = Path.Combine(_dir, "t.png");
        File.WriteAllBytes(path, png);
        var read = PngText.Read(path);
        Assert.Equal(entries.OrderBy(e => e.Key), read.OrderBy(e => e.Key));

        // The image itself is untouched.
        using var scope = NewDisposeScope();
        Assert.Equal(ImageFile.Load(TinyPng()).data<float>().ToArray(), ImageFile.Load(path).data<float>().ToArray());
    }

    [Fact]
    public void Latin1AndAutoKindsPickTheRightChunk()
    {
        var png = PngText.Write(TinyPng(),
        [
            new PngTextEntry("a", "naïve", PngTextKind.Latin1),
            new PngTextEntry("b", "naïve", PngTextKind.Auto),
            new PngTextEntry("c", "日本", PngTextKind.Auto),
        ]);
        var chunks = Chunks(png);
        Assert.Equal(["tEXt", "tEXt", "iTXt"], chunks.Skip(2).Take(3).Select(c => c.Type).ToArray());
        Assert.Equal([(byte)'a', 0, (byte)'n', (byte)'a', 0xEF, (byte)'v', (byte)'e'], chunks[2].Data);    // Latin-1 ï = 0xEF
        var read = PngText.Read(png);
        Assert.Equal("naïve", read["a"]);
        Assert.Equal("日本", read["c"]);
        Assert.Throws<ArgumentException>(() => PngText.Write(TinyPng(), [new PngTextEntry("x", "日本", PngTextKind.Latin1)]));
    }

    [Fact]
    public void WritingAKeyAgainReplacesIt()
    {
        var once = PngText.Write(TinyPng(), new Dictionary<string, string> { ["k"] = "old", ["other"] = "stays" });
        var twice = PngText.Write(once, new Dictionary<string, string> { ["k"] = "new" });
        var read = PngText.Read(twice);
        Assert.Equal("new", read["k"]);
        Assert.Equal("stays", read["other"]);
        Assert.Equal(2, Chunks(twice).Count(c => c.Type is "iTXt" or "tEXt"));
    }

    [Fact]
    public void ReadsCompressedZtxtAndItxt()
    {
        static byte[] Deflate(string s, Encoding enc)
        {
            using var ms = new MemoryStream();
            using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(enc.GetBytes(s));
            return ms.ToArray();
        }
        byte[] ztxt = [.. "Comment"u8.ToArray(), 0, 0, .. Deflate("zipped latin-1 é", Encoding.Latin1)];
        byte[] itxt = [.. "Desc"u8.ToArray(), 0, 1, 0, .. "en"u8.ToArray(), 0, .. "Beschreibung"u8.ToArray(), 0, .. Deflate("压缩的 UTF-8", Encoding.UTF8)];
        byte[] png = [.. PngSignature, .. Chunk("IHDR", Ihdr(1, 1, 8, 0)), .. Chunk("zTXt", ztxt), .. Chunk("iTXt", itxt),
            .. Chunk("IDAT", [0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]), .. Chunk("IEND", [])];
        var read = PngText.Read(png);
        Assert.Equal("zipped latin-1 é", read["Comment"]);
        Assert.Equal("压缩的 UTF-8", read["Desc"]);
    }

    [Fact]
    public void CorruptCrcIsDetected()
    {
        var png = PngText.Write(TinyPng(), new Dictionary<string, string> { ["prompt"] = "a red cube" });
        int at = IndexOf(png, "a red cube"u8.ToArray());
        var flipped = (byte[])png.Clone();
        flipped[at] ^= 0x20; // 'a' → 'A': the text chunk's stored CRC no longer matches
        var path = Path.Combine(_dir, "bad.png");
        File.WriteAllBytes(path, flipped);
        var e = Assert.Throws<ImageFormatException>(() => PngText.Read(path));
        Assert.Equal(path, e.FileName);
        Assert.Contains("CRC mismatch in the iTXt chunk", e.Message);
        // Writing into a corrupt file is refused too, as is a bad CRC elsewhere (IDAT).
        Assert.Throws<ImageFormatException>(() => PngText.Write(flipped, new Dictionary<string, string> { ["x"] = "y" }));
        byte[] badIdat = [.. PngSignature, .. Chunk("IHDR", Ihdr(1, 1, 8, 0)), .. Chunk("IDAT", [1, 2, 3], corruptCrc: true), .. Chunk("IEND", [])];
        Assert.Contains("CRC mismatch in the IDAT chunk", Assert.Throws<ImageFormatException>(() => PngText.Read(badIdat)).Message);
    }

    [Fact]
    public void TruncatedBadAndOversizedInputsAreRefused()
    {
        var png = PngText.Write(TinyPng(), new Dictionary<string, string> { ["k"] = "v" });
        Assert.Contains("truncated", Assert.Throws<ImageFormatException>(() => PngText.Read(png[..^6])).Message);
        Assert.Contains("without an IEND", Assert.Throws<ImageFormatException>(() => PngText.Read(png[..^12])).Message);
        Assert.Contains("not a PNG", Assert.Throws<ImageFormatException>(() => PngText.Read("GIF89a......"u8.ToArray())).Message);
        byte[] noIhdr = [.. PngSignature, .. Chunk("IEND", [])];
        Assert.Contains("not IHDR", Assert.Throws<ImageFormatException>(() => PngText.Read(noIhdr)).Message);

        // A tEXt chunk that declares 100 MB: refused from its length, before anything is allocated or read.
        var huge = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(huge, 100_000_000);
        "tEXt"u8.CopyTo(huge.AsSpan(4));
        byte[] bomb = [.. PngSignature, .. Chunk("IHDR", Ihdr(1, 1, 8, 0)), .. huge, 0, 0, 0];
        Assert.Contains("above the text limit", Assert.Throws<ImageFormatException>(() => PngText.Read(bomb)).Message);

        // Keywords must be 1..79 printable Latin-1 characters without leading/trailing/double spaces.
        foreach (var bad in new[] { "", new string('k', 80), " lead", "two  spaces", "tab\tkey", "ключ" })
            Assert.Throws<ArgumentException>(() => PngText.Write(TinyPng(), new Dictionary<string, string> { [bad] = "v" }));
        Assert.Throws<ArgumentException>(() => PngText.Write(TinyPng(), new Dictionary<string, string> { ["k"] = "nul\0inside" }));
    }

    [Fact]
    public void GenerationParametersRoundTripThroughASavedPng()
    {
        using var scope = NewDisposeScope();
        var p = SampleParameters("a photo of a red cube left of a blue sphere");
        var path = Path.Combine(_dir, "gen.png");
        var image = rand(3, 8, 8) * 2 - 1;
        ImageFile.Save(image, path, p);

        var back = GenerationParameters.FromPng(path);
        Assert.NotNull(back);
        Assert.Equal(p with { Extras = back!.Extras }, back);   // every scalar field
        Assert.Equal(p.Extras.OrderBy(e => e.Key), back.Extras.OrderBy(e => e.Key));
        Assert.Equal(p.ToJson(), back.ToJson());

        var text = PngText.Read(path);
        Assert.Equal(
            "a photo of a red cube left of a blue sphere\nNegative prompt: blurry, low quality\n" +
            "Steps: 30, Sampler: euler_maruyama, CFG scale: 4.5, CFG schedule: linear, Seed: 42, Size: 448x448, " +
            "Order: random, Parallel: 4, Model: vgt-internvl3-1.6b, Model version: 2025-11, Version: VGT.NET 0.1.0, " +
            "checkpoint_sha256: ab12, temperature: 1.0",
            text[GenerationParameters.TextKeyword]);
        Assert.Contains("\"cfg_scale\":4.5", text[GenerationParameters.JsonKeyword]);
        Assert.Contains("\"model_version\":\"2025-11\"", text[GenerationParameters.JsonKeyword]);
        var types = Chunks(File.ReadAllBytes(path)).Select(c => c.Type).ToList();
        Assert.Contains("tEXt", types);  // Latin-1 prompt: the display text is plain tEXt

        // Pixels are still what was saved.
        var expected = ImageFile.Load(ImageFile.Encode(image, new ImageSaveOptions { Format = ImageFileFormat.Png }));
        Assert.Equal(expected.data<float>().ToArray(), ImageFile.Load(path).data<float>().ToArray());
    }

    [Fact]
    public void NonLatinPromptAndMissingParameters()
    {
        var p = SampleParameters("一只猫 🐱") with { NegativePrompt = null, Extras = new Dictionary<string, string>() };
        var png = p.WriteTo(TinyPng());
        Assert.Equal(["iTXt", "iTXt"], Chunks(png).Where(c => c.Type.EndsWith("Xt")).Select(c => c.Type).ToArray());
        var back = GenerationParameters.FromPng(png)!;
        Assert.Equal("一只猫 🐱", back.Prompt);
        Assert.Null(back.NegativePrompt);
        Assert.StartsWith("一只猫 🐱\nSteps: 30,", PngText.Read(png)[GenerationParameters.TextKeyword]);

        Assert.Null(GenerationParameters.FromPng(TinyPng()));
        var broken = PngText.Write(TinyPng(), new Dictionary<string, string> { [GenerationParameters.JsonKeyword] = "{\"seed\":1}" });
        Assert.Contains("not valid generation parameters", Assert.Throws<ImageFormatException>(() => GenerationParameters.FromPng(broken)).Message);
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
