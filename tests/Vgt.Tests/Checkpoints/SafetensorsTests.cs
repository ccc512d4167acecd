using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;
using Vgt.Checkpoints;
using static TorchSharp.torch;

namespace Vgt.Tests.Checkpoints;

public class SafetensorsTests
{
    [Theory]
    [InlineData("tiny_f32.safetensors", ScalarType.Float32)]
    [InlineData("tiny_f16.safetensors", ScalarType.Float16)]
    [InlineData("tiny_bf16.safetensors", ScalarType.BFloat16)]
    public void ReadsPyTorchWrittenFilesInEachDtype(string file, ScalarType stored)
    {
        using var ck = CheckpointReader.Open(Fixtures.File(file));
        var expected = Fixtures.Expected(file);
        Assert.Equal("safetensors", ck.Format);
        Assert.Equal("pt", ck.Metadata["format"]);
        Assert.Equal(8, ck.Names.Count);
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), ck.Names.Order());
        Assert.Equal(stored, ck.Info("proj.weight").DType);
        Assert.Equal(ScalarType.Int64, ck.Info("bn.num_batches_tracked").DType);
        Assert.Equal(new long[] { 4, 3 }, ck.Info("proj.weight").Shape);
        foreach (var name in ck.Names)
        {
            using var scope = NewDisposeScope();
            var asFloat = ck.Load(name);
            Assert.Equal(ScalarType.Float32, asFloat.dtype);
            Fixtures.AssertMatches(expected.GetProperty(name), asFloat, name);
            var asStored = ck.Load(name, dtype: null);
            Assert.Equal(ck.Info(name).DType, asStored.dtype);
        }
        using var counter = ck.Load("bn.num_batches_tracked", dtype: null);
        Assert.Equal(7L, counter.item<long>());
    }

    [Fact]
    public void UnknownNameThrowsKeyNotFoundNamingTheFile()
    {
        using var ck = CheckpointReader.Open(Fixtures.File("tiny_f32.safetensors"));
        var e = Assert.Throws<KeyNotFoundException>(() => ck.Load("nope"));
        Assert.Contains("tiny_f32.safetensors", e.Message);
        Assert.Contains("'nope'", e.Message);
    }

    private static Dictionary<string, Tensor> ReferenceTensors() => new()
    {
        // Same tensors as writer_reference.safetensors in make_checkpoint_fixtures.py.
        ["a"] = arange(6, dtype: ScalarType.Float32).reshape(2, 3) / 4,
        ["b.half"] = (arange(4, dtype: ScalarType.Float32) * 0.5 - 1).to_type(ScalarType.Float16),
        ["c.bf16"] = (arange(6, dtype: ScalarType.Float32).reshape(3, 2) * 0.25 + 1).to_type(ScalarType.BFloat16),
        ["d.long"] = arange(3, dtype: ScalarType.Int64) - 1,
    };

    private static readonly Dictionary<string, string> ReferenceMetadata = new() { ["producer"] = "vgt", ["format"] = "pt" };

    [Fact]
    public void WriterProducesTheSameBytesAsThePythonWriter()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var path = dir.File("ours.safetensors");
        SafetensorsWriter.Write(path, ReferenceTensors(), ReferenceMetadata);
        Assert.Equal(File.ReadAllBytes(Fixtures.File("writer_reference.safetensors")), File.ReadAllBytes(path));
    }

    [Fact]
    public void WrittenFileIsReadBackByAnIndependentReader()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var path = dir.File("ours.safetensors");
        var tensors = ReferenceTensors();
        SafetensorsWriter.Write(path, tensors, ReferenceMetadata);

        // TorchSharp.PyBridge's own safetensors reader, not ours.
        var theirs = TorchSharp.PyBridge.Safetensors.LoadStateDict(path);
        Assert.Equal(tensors.Keys.Order(), theirs.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Fixtures.AssertSame(t, theirs[name], name);
        }

        using var ours = CheckpointReader.Open(path);
        Assert.Equal("vgt", ours.Metadata["producer"]);
        foreach (var (name, t) in tensors) Fixtures.AssertSame(t, ours.Load(name, dtype: null), name);
    }

    [Fact]
    public void WriterAlwaysWritesMetadataAndPadsTheHeaderTo8Bytes()
    {
        using var dir = new TempDir();
        var path = dir.File("x.safetensors");
        using var t = ones(3, dtype: ScalarType.Float32);
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = t });
        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal(8 + n + 12, bytes.Length);
        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, n));
        Assert.Equal(JsonValueKind.Object, doc.RootElement.GetProperty("__metadata__").ValueKind);
        Assert.Equal("[0,12]", doc.RootElement.GetProperty("w").GetProperty("data_offsets").GetRawText());
        Assert.Equal(1f, BitConverter.ToSingle(bytes, 8 + n + 8));
    }

    [Fact]
    public void OverwritingALargerFileTruncatesIt()
    {
        using var dir = new TempDir();
        var path = dir.File("x.safetensors");
        using var big = zeros(1000, dtype: ScalarType.Float32);
        using var small = ones(2, dtype: ScalarType.Float32);
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = big });
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = small });
        using var ck = CheckpointReader.Open(path); // the reader refuses trailing bytes, so this checks truncation too
        Assert.Equal(new long[] { 2 }, ck.Info("w").Shape);
        Assert.True(new FileInfo(path).Length < 200);
        Assert.Single(Directory.GetFiles(dir.Path)); // no temp file left behind
    }

    [Fact]
    public void WriterWritesViewsAndNonContiguousTensorsByValue()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var path = dir.File("x.safetensors");
        var baseT = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        var t = baseT.t(); // [4,3], strides (1,4)
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["t"] = t, ["row"] = baseT[1] });
        using var ck = CheckpointReader.Open(path);
        Assert.Equal(new float[] { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 }, ck.Load("t").data<float>().ToArray());
        Assert.Equal(new float[] { 4, 5, 6, 7 }, ck.Load("row").data<float>().ToArray());
    }

    [Fact]
    public void WriterRefusesUnsupportedDtypesAndTheReservedName()
    {
        using var dir = new TempDir();
        using var c = zeros(2, dtype: ScalarType.ComplexFloat32);
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(dir.File("x.safetensors"), new Dictionary<string, Tensor> { ["z"] = c }));
        Assert.Contains("'z'", e.Message);
        using var f = zeros(2);
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(dir.File("y.safetensors"), new Dictionary<string, Tensor> { ["__metadata__"] = f }));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void EmptyAndScalarTensorsRoundTrip()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDir();
        var path = dir.File("x.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor>
        {
            ["empty"] = zeros(new long[] { 0, 5 }),
            ["scalar"] = tensor(2.5f),
        });
        using var ck = CheckpointReader.Open(path);
        Assert.Equal(new long[] { 0, 5 }, ck.Load("empty").shape);
        Assert.Equal(2.5f, ck.Load("scalar").item<float>());
        Assert.Empty(ck.Info("scalar").Shape);
    }
}
