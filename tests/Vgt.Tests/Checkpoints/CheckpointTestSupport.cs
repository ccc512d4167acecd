using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Tests.Checkpoints;

/// <summary>The module whose state dict the Python fixtures write (tools/fixtures/make_checkpoint_fixtures.py).</summary>
internal sealed class TinyNet : nn.Module
{
#pragma warning disable IDE1006 // field names = state-dict names
    private readonly Linear proj;
    private readonly BatchNorm1d bn;
    private readonly Linear head;
#pragma warning restore IDE1006

    public TinyNet() : base(nameof(TinyNet))
    {
        proj = nn.Linear(3, 4);                 // proj.weight [4,3], proj.bias [4]
        bn = nn.BatchNorm1d(4);                 // bn.weight/bias/running_mean/running_var [4], bn.num_batches_tracked []
        head = nn.Linear(4, 2, hasBias: false); // head.weight [2,4]
        RegisterComponents();
    }
}

internal static class Fixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints");

    public static string File(string name) => Path.Combine(Dir, name);

    /// <summary>expected.json: per file, per tensor {dtype, shape, sum, first} computed by PyTorch.</summary>
    public static JsonElement Expected(string key)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(File("expected.json")));
        return doc.RootElement.GetProperty(key).Clone();
    }

    /// <summary>Same dtype, same shape, same values.</summary>
    public static void AssertSame(Tensor expected, Tensor actual, string name)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.eq(actual).all().item<bool>(), $"{name}: values differ");
    }

    /// <summary>Asserts a tensor's shape, float64 sum and first values against expected.json.</summary>
    public static void AssertMatches(JsonElement expected, Tensor actual, string name)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(shape, actual.shape);
        using var d = actual.to_type(ScalarType.Float64);
        Assert.Equal(expected.GetProperty("sum").GetDouble(), d.sum().item<double>(), 1e-6);
        var flat = d.reshape(-1).data<double>().ToArray();
        var first = expected.GetProperty("first").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < first.Length; i++) Assert.True(Math.Abs(first[i] - flat[i]) < 1e-7, $"{name}[{i}]: {flat[i]} vs {first[i]}");
    }
}

/// <summary>A temp directory removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("vgt-ckpt-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Builds safetensors bytes with an arbitrary (possibly hostile) header.</summary>
internal static class RawSafetensors
{
    public static byte[] Build(string headerJson, int dataBytes, ulong? declaredLength = null) =>
        Build(Encoding.UTF8.GetBytes(headerJson), dataBytes, declaredLength);

    public static byte[] Build(byte[] header, int dataBytes, ulong? declaredLength = null)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++) bytes[8 + header.Length + i] = (byte)i;
        return bytes;
    }
}

/// <summary>Writes protocol-2 pickles by hand, for hostile data.pkl cases.</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _s = new();

    public PickleBuilder() => _s.Write([0x80, 2]);

    public byte[] Bytes() => _s.ToArray();

    public PickleBuilder Op(params byte[] bytes) { _s.Write(bytes); return this; }
    public PickleBuilder Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        _s.WriteByte((byte)'X');
        _s.Write(BitConverter.GetBytes((uint)b.Length));
        _s.Write(b);
        return this;
    }
    public PickleBuilder Int(long v)
    {
        var b = new System.Numerics.BigInteger(v).ToByteArray(); // little-endian two's complement
        _s.WriteByte(0x8a);
        _s.WriteByte((byte)b.Length);
        _s.Write(b);
        return this;
    }
    public PickleBuilder Global(string module, string name) => Op(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
    public PickleBuilder Tuple(params long[] values)
    {
        Op((byte)'(');
        foreach (var v in values) Int(v);
        return Op((byte)'t');
    }

    /// <summary>{name: _rebuild_tensor_v2(storage(key, numel), offset, shape, stride, False, OrderedDict())}</summary>
    public static byte[] OneTensor(string name, string storageClass, long numel, long offset, long[] shape, long[] stride, string key = "0")
    {
        var p = new PickleBuilder().Op((byte)'}').Str(name)
            .Global("torch._utils", "_rebuild_tensor_v2").Op((byte)'(')
            .Op((byte)'(').Str("storage").Global("torch", storageClass).Str(key).Str("cpu").Int(numel).Op((byte)'t', (byte)'Q')
            .Int(offset).Tuple(shape).Tuple(stride).Op(0x89)
            .Global("collections", "OrderedDict").Op((byte)')', (byte)'R')
            .Op((byte)'t', (byte)'R', (byte)'s', (byte)'.');
        return p.Bytes();
    }

    /// <summary>A zip laid out like torch.save: archive/data.pkl plus archive/data/&lt;key&gt; entries.</summary>
    public static void WriteArchive(string path, byte[] pickle, params (string Key, byte[] Bytes)[] storages)
    {
        using var fs = System.IO.File.Create(path);
        using var zip = new System.IO.Compression.ZipArchive(fs, System.IO.Compression.ZipArchiveMode.Create);
        void Add(string name, byte[] bytes)
        {
            using var s = zip.CreateEntry(name, System.IO.Compression.CompressionLevel.NoCompression).Open();
            s.Write(bytes);
        }
        Add("archive/data.pkl", pickle);
        foreach (var (key, bytes) in storages) Add($"archive/data/{key}", bytes);
        Add("archive/version", Encoding.ASCII.GetBytes("3\n"));
    }
}
