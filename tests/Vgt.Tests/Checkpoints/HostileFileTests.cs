using System.IO.Compression;
using System.Text;
using Vgt.Checkpoints;

namespace Vgt.Tests.Checkpoints;

/// <summary>
/// Malformed files must raise <see cref="CheckpointFormatException"/> naming the file and the problem, and must not
/// crash, hang or allocate for sizes the file does not back (several cases declare terabytes or exabytes).
/// </summary>
public class HostileFileTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private CheckpointFormatException Refused(string fileName, byte[] bytes, params string[] expectedWords)
    {
        var path = _tmp.File(fileName);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(path).Dispose());
        Assert.Equal(path, e.Path);
        Assert.Contains(path, e.Message);
        foreach (var w in expectedWords) Assert.Contains(w, e.Message);
        return e;
    }

    private const string OneF32 = """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""";

    [Fact]
    public void ValidBaselineOpens()
    {
        var path = _tmp.File("ok.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build(OneF32, 16));
        using var ck = CheckpointReader.Open(path);
        Assert.Equal(["w"], ck.Names);
    }

    [Fact]
    public void TooShortForTheLengthPrefix() => Refused("short.safetensors", [1, 2, 3], "too short", "truncated");

    [Fact]
    public void TruncatedDataSection() =>
        Refused("trunc.safetensors", RawSafetensors.Build(OneF32, 10), "data_offsets [0, 16] out of range", "10 bytes");

    [Fact]
    public void HeaderLengthLargerThanTheFile()
    {
        Refused("hlen.safetensors", RawSafetensors.Build(OneF32, 16, declaredLength: 1_000_000), "header length 1000000 is larger than the file");
        Refused("hmax.safetensors", RawSafetensors.Build(OneF32, 16, declaredLength: ulong.MaxValue), "larger than the file");
    }

    [Fact]
    public void HeaderIsNotJson()
    {
        Refused("notjson.safetensors", RawSafetensors.Build("{\"w\": [1, 2", 0), "header is not valid JSON");
        Refused("array.safetensors", RawSafetensors.Build("[1,2,3]", 0), "not an object");
        Refused("utf8.safetensors", RawSafetensors.Build([(byte)'{', (byte)'"', 0xff, (byte)'"', (byte)':', (byte)'1', (byte)'}'], 0), "not valid JSON");
    }

    [Fact]
    public void OverlappingOffsets() => Refused("overlap.safetensors", RawSafetensors.Build(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12),
        "'a' [0, 8] and 'b' [4, 12] have overlapping data_offsets");

    [Fact]
    public void OutOfRangeOffsets()
    {
        Refused("range.safetensors", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[100,108]}}""", 8), "out of range");
        Refused("neg.safetensors", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}""", 8), "invalid data_offsets");
        Refused("huge.safetensors", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}""", 8), "invalid data_offsets");
        Refused("reversed.safetensors", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", 8), "end before they begin");
    }

    [Fact]
    public void GapsAndTrailingBytes()
    {
        Refused("gap.safetensors", RawSafetensors.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "gap of 4 bytes");
        Refused("trail.safetensors", RawSafetensors.Build(OneF32, 20), "holds 20 bytes but the tensors cover 16");
    }

    [Fact]
    public void UnknownDtype()
    {
        Refused("dtype.safetensors", RawSafetensors.Build("""{"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}""", 8), "'w'", "unknown or unsupported dtype 'Q7'");
        Refused("fp8.safetensors", RawSafetensors.Build("""{"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}""", 8), "'F8_E4M3'");
        Refused("nodtype.safetensors", RawSafetensors.Build("""{"w":{"shape":[2],"data_offsets":[0,8]}}""", 8), "no dtype");
    }

    [Fact]
    public void ShapeAndByteCountMismatch() =>
        Refused("mismatch.safetensors", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}}""", 16),
            "'w' has shape [3, 2] of F32 needing 24 bytes, but its data_offsets span 16 bytes");

    [Fact]
    public void AbsurdDims()
    {
        Refused("absurd.safetensors", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,16]}}""", 16),
            "absurd shape [1099511627776, 1099511627776]", "overflows");
        Refused("terabyte.safetensors", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,16]}}""", 16),
            "needing 4398046511104 bytes");
        Refused("negdim.safetensors", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}""", 16), "invalid dim -4");
        Refused("fracdim.safetensors", RawSafetensors.Build("""{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}}""", 16), "invalid dim 2.5");
    }

    [Fact]
    public void DuplicateNamesAndBadMetadata()
    {
        Refused("dup.safetensors", RawSafetensors.Build(
            """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "names 'w' twice");
        Refused("meta.safetensors", RawSafetensors.Build("""{"__metadata__":{"a":1}}""", 0), "__metadata__ value 'a' is not a string");
    }

    // ---- zip / pickle files ----

    private byte[] Archive(byte[] pickle, params (string, byte[])[] storages)
    {
        var path = _tmp.File(Guid.NewGuid().ToString("N") + ".zip");
        PickleBuilder.WriteArchive(path, pickle, storages);
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void HandBuiltArchiveBaselineLoads()
    {
        var path = _tmp.File("ok.pth");
        File.WriteAllBytes(path, Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, 1, [3], [1]), ("0", new byte[16])));
        using var ck = CheckpointReader.Open(path);
        Assert.Equal([3L], ck.Info("w").Shape);
        using var t = ck.Load("w");
        Assert.Equal(new float[] { 0, 0, 0 }, t.data<float>().ToArray());
    }

    [Fact]
    public void ZipThatIsNotAPickle()
    {
        Refused("garbage.pth", Archive(Encoding.ASCII.GetBytes("this is not a pickle")), "malformed pickle", "no MARK");
        Refused("opcode.pth", Archive([0x80, 2, 0xff]), "malformed pickle (data.pkl byte 2): unsupported opcode 0xff");
        Refused("empty.pth", Archive([]), "malformed pickle", "truncated");
    }

    [Fact]
    public void ZipWithoutDataPkl()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            using (var s = zip.CreateEntry("readme.txt").Open()) s.Write("hi"u8);
        Refused("nopkl.pth", ms.ToArray(), "no <name>/data.pkl");
    }

    [Fact]
    public void NotAZipAtAll()
    {
        Refused("text.pth", Encoding.ASCII.GetBytes("hello world"), "not a zip archive");
        Refused("legacy.bin", [0x80, 0x02, 0x8a, 0x0a], "legacy");
    }

    [Fact]
    public void TruncatedZip()
    {
        var full = File.ReadAllBytes(Fixtures.File("mmengine_style.pth"));
        Refused("half.pth", full[..(full.Length / 2)], "corrupt zip archive");
        Refused("head.pth", full[..100], "corrupt zip archive");
    }

    [Fact]
    public void TruncatedPickle()
    {
        var pickle = PickleBuilder.OneTensor("w", "FloatStorage", 4, 0, [4], [1]);
        Refused("tpkl.pth", Archive(pickle[..(pickle.Length - 10)], ("0", new byte[16])), "malformed pickle", "truncated");
    }

    [Fact]
    public void PickleLengthFieldBeyondTheData()
    {
        // BINUNICODE claiming 4 GB: must be refused before allocating.
        Refused("bigstr.pth", Archive([0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0xff, (byte)'a']), "runs past the end of the pickle");
        Refused("bigbytes.pth", Archive([0x80, 4, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), "runs past the end of the pickle");
    }

    [Fact]
    public void PickleOfAWholeModelObject()
    {
        var p = new PickleBuilder().Global("mypkg.models", "Net").Op((byte)')', 0x81, (byte)'.');
        var bytes = p.Bytes();
        Refused("model.pth", Archive(bytes), "pickled mypkg.models.Net object");
    }

    [Fact]
    public void UnknownStorageDtype() =>
        Refused("cplx.pth", Archive(PickleBuilder.OneTensor("w", "ComplexFloatStorage", 2, 0, [2], [1]), ("0", new byte[16])),
            "'w'", "unknown or unsupported storage type 'ComplexFloatStorage'");

    [Fact]
    public void StorageMissingFromTheArchive() =>
        Refused("nostorage.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, 0, [4], [1], key: "7")),
            "storage '7'", "missing from the archive");

    [Fact]
    public void StorageByteCountMismatch() =>
        Refused("short.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, 0, [4], [1]), ("0", new byte[12])),
            "declares 4 Float32 elements (16 bytes) but its archive entry holds 12 bytes");

    [Fact]
    public void TensorOutOfItsStorage()
    {
        Refused("offset.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, 2, [4], [1]), ("0", new byte[16])),
            "reaches element 5 of storage '0', which holds 4 elements");
        Refused("stride.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, 0, [2, 2], [4, 1]), ("0", new byte[16])),
            "reaches element 5");
        Refused("negoff.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, -1, [2], [1]), ("0", new byte[16])), "negative");
    }

    [Fact]
    public void AbsurdTensorShapes()
    {
        const long big = 1L << 40;
        Refused("absurd.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, 0, [big, big], [big, 1]), ("0", new byte[16])),
            "absurd shape [1099511627776, 1099511627776]");
        // Fits in a long, but the 16-byte storage does not back a terabyte tensor.
        Refused("tera.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", 4, 0, [1 << 20, 1 << 20], [1 << 20, 1]), ("0", new byte[16])),
            "which holds 4 elements");
        Refused("bigstorage.pth", Archive(PickleBuilder.OneTensor("w", "FloatStorage", long.MaxValue / 2, 0, [4], [1]), ("0", new byte[16])),
            "absurd");
    }
}

/// <summary>Sizes that the file does not back: refused from the header or directory alone.</summary>
public class HostileSizeTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void SafetensorsHeaderAboveTheCapIsRefusedWithoutReadingIt()
    {
        // A sparse 150 MB file whose header claims 120 MB: within the file, above the 100 MB cap.
        var path = _tmp.File("bighead.safetensors");
        using (var fs = File.Create(path))
        {
            fs.Write(BitConverter.GetBytes(120UL * 1024 * 1024));
            fs.SetLength(150L * 1024 * 1024);
        }
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("exceeds the 104857600-byte limit", e.Message);
    }

    /// <summary>Overwrites the sizes of <paramref name="entry"/> in the zip's central directory.</summary>
    private static void PatchCentralDirectory(byte[] zip, string entry, uint compressed, uint uncompressed)
    {
        var name = Encoding.ASCII.GetBytes(entry);
        for (int i = 0; i + 46 <= zip.Length; i++)
        {
            if (BitConverter.ToUInt32(zip, i) != 0x02014b50) continue;
            int nameLength = BitConverter.ToUInt16(zip, i + 28);
            if (!zip.AsSpan(i + 46, nameLength).SequenceEqual(name)) continue;
            BitConverter.TryWriteBytes(zip.AsSpan(i + 20, 4), compressed);
            BitConverter.TryWriteBytes(zip.AsSpan(i + 24, 4), uncompressed);
            return;
        }
        throw new InvalidOperationException($"{entry} not found");
    }

    [Theory]
    [InlineData("archive/data.pkl", 100_000_000u, 100_000_000u, 4, "'archive/data.pkl' claims 100000000 bytes, more than the")]
    [InlineData("archive/data.pkl", 1u, 100_000_000u, 4, "'archive/data.pkl' claims 100000000 bytes, more than the")]
    [InlineData("archive/data.pkl", 0x7fffffffu, 0x7fffffffu, 4, "is 2147483647 bytes, above the 536870912-byte limit")]
    [InlineData("archive/data/0", 1u << 30, 1u << 30, 1 << 28, "'archive/data/0' claims 1073741824 bytes, more than the")]
    [InlineData("archive/data/0", 0xfffffff0u, 0xfffffff0u, 4, "declares 4 Float32 elements (16 bytes) but its archive entry holds 4294967280 bytes")]
    public void ZipEntriesClaimingMoreThanTheFileHoldsAreRefused(string entry, uint compressed, uint uncompressed, long numel, string problem)
    {
        var path = _tmp.File("lying.pth");
        PickleBuilder.WriteArchive(path, PickleBuilder.OneTensor("w", "FloatStorage", numel, 0, [numel], [1]), ("0", new byte[16]));
        var bytes = File.ReadAllBytes(path);
        PatchCentralDirectory(bytes, entry, compressed, uncompressed);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(path).Dispose());
        Assert.Equal(path, e.Path);
        Assert.Contains(problem, e.Message);
    }
}
