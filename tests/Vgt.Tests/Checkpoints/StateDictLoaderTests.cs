using TorchSharp;
using Vgt.Checkpoints;
using static TorchSharp.torch;

namespace Vgt.Tests.Checkpoints;

public class StateDictLoaderTests
{
    private static Tensor Param(nn.Module m, string name) => m.state_dict()[name];

    [Fact]
    public void StrictLoadOfBf16ConvertsToTheModuleDtype()
    {
        using var net = new TinyNet();
        var report = StateDictLoader.LoadFile(net, Fixtures.File("tiny_bf16.safetensors"));
        Assert.True(report.IsComplete);
        Assert.Equal(8, report.Loaded.Count);
        Assert.Equal(ScalarType.Float32, Param(net, "proj.weight").dtype);
        var expected = Fixtures.Expected("tiny_bf16.safetensors");
        foreach (var (name, t) in net.state_dict()) Fixtures.AssertMatches(expected.GetProperty(name), t, name);
        Assert.Equal(7L, Param(net, "bn.num_batches_tracked").item<long>());
    }

    [Fact]
    public void EmaLoadStripsModulePrefixAndIgnoresSteps()
    {
        using var net = new TinyNet();
        var report = StateDictLoader.LoadFile(net, Fixtures.File("mmengine_style.pth"),
            new LoadOptions { Ignore = ["^steps$"] }, new CheckpointOpenOptions { PreferEma = true });
        Assert.True(report.IsComplete, report.ToString());
        Assert.Equal(1, report.Ignored);
        var expected = Fixtures.Expected("mmengine_style.pth/ema_state_dict");
        foreach (var (name, t) in net.state_dict()) Fixtures.AssertMatches(expected.GetProperty("module." + name), t, name);
        Assert.Equal(8L, Param(net, "bn.num_batches_tracked").item<long>()); // EMA copy stores 7 + 1
    }

    [Fact]
    public void StrictModeNamesTheProblemsAndLeavesTheModuleUntouched()
    {
        using var net = new TinyNet();
        using var before = Param(net, "proj.weight").clone();
        // Without Ignore, the EMA dict's 'steps' is unexpected.
        var e = Assert.Throws<CheckpointLoadException>(() => StateDictLoader.LoadFile(net, Fixtures.File("mmengine_style.pth"),
            open: new CheckpointOpenOptions { PreferEma = true }));
        Assert.Contains("unexpected: steps", e.Message);
        Assert.Contains("mmengine_style.pth", e.Message);
        Assert.Equal(["steps"], e.Report.Unexpected);
        Fixtures.AssertSame(before, Param(net, "proj.weight"), "proj.weight");
    }

    [Fact]
    public void PartialLoadReportsMissingUnexpectedAndMismatchedAndLoadsTheRest()
    {
        using var scope = NewDisposeScope();
        using var tmp = new TempDir();
        var path = tmp.File("partial.safetensors");
        var source = new Dictionary<string, Tensor>
        {
            ["proj.weight"] = full(new long[] { 4, 3 }, 0.25f),
            ["proj.bias"] = full(new long[] { 5 }, 9f),          // wrong shape
            ["head.weight"] = full(new long[] { 2, 4 }, -1f, dtype: ScalarType.Float16),
            ["extra.weight"] = zeros(2),
        };
        SafetensorsWriter.Write(path, source);
        using var net = new TinyNet();
        var biasBefore = Param(net, "proj.bias").clone();

        var report = StateDictLoader.LoadFile(net, path, new LoadOptions { Strict = false });
        Assert.Equal(["proj.weight", "head.weight"], report.Loaded);
        Assert.Equal(["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"], report.Missing);
        Assert.Equal(["extra.weight"], report.Unexpected);
        var m = Assert.Single(report.Mismatched);
        Assert.Equal("proj.bias", m.Name);
        Assert.Equal([4L], m.Expected);
        Assert.Equal([5L], m.Found);
        Assert.True(Param(net, "proj.weight").eq(0.25f).all().item<bool>());
        Assert.True(Param(net, "head.weight").eq(-1f).all().item<bool>());
        Fixtures.AssertSame(biasBefore, Param(net, "proj.bias"), "proj.bias");

        var text = report.ToString();
        Assert.Contains("Loaded 2 tensors", text);
        Assert.Contains("Missing (in the module, not in the checkpoint): 5", text);
        Assert.Contains("extra.weight", text);
        Assert.Contains("proj.bias: module [4], checkpoint [5]", text);
    }

    [Fact]
    public void PrefixSelectsASubModuleAndRenamesRewriteKeys()
    {
        using var scope = NewDisposeScope();
        using var tmp = new TempDir();
        var path = tmp.File("nested.safetensors");
        var source = new Dictionary<string, Tensor>();
        using (var ck = CheckpointReader.Open(Fixtures.File("tiny_f32.safetensors")))
            foreach (var n in ck.Names)
                source["module.vgt_ae." + n.Replace("proj.", "input_proj.")] = ck.Load(n, dtype: null);
        source["module.lmm.other.weight"] = zeros(3);
        SafetensorsWriter.Write(path, source);

        using var net = new TinyNet();
        var report = StateDictLoader.LoadFile(net, path, new LoadOptions
        {
            Prefix = "vgt_ae.",
            Renames = [(@"^input_proj\.", "proj.")],
        });
        Assert.True(report.IsComplete);
        Assert.Equal(1, report.SkippedOutsidePrefix);
        var expected = Fixtures.Expected("tiny_f32.safetensors");
        Fixtures.AssertMatches(expected.GetProperty("proj.weight"), Param(net, "proj.weight"), "proj.weight");

        // AddPrefix: the checkpoint of a sub-module loaded into a parent's names.
        var inner = tmp.File("inner.safetensors");
        SafetensorsWriter.Write(inner, new Dictionary<string, Tensor> { ["weight"] = full(new long[] { 2, 4 }, 3f) });
        var r2 = StateDictLoader.LoadFile(net, inner, new LoadOptions { Strict = false, AddPrefix = "head." });
        Assert.Equal(["head.weight"], r2.Loaded);
        Assert.True(Param(net, "head.weight").eq(3f).all().item<bool>());
    }

    [Fact]
    public void TwoKeysMappingToOneNameIsAnError()
    {
        using var scope = NewDisposeScope();
        using var tmp = new TempDir();
        var path = tmp.File("dup.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a.weight"] = zeros(1), ["b.weight"] = zeros(1) });
        using var net = new TinyNet();
        var e = Assert.Throws<ArgumentException>(() =>
            StateDictLoader.LoadFile(net, path, new LoadOptions { Strict = false, Renames = [("^[ab]\\.", "head.")] }));
        Assert.Contains("'a.weight' and 'b.weight' both map to 'head.weight'", e.Message);
    }

    [Fact]
    public void ShardedBinLoadsStrictly()
    {
        using var net = new TinyNet();
        var report = StateDictLoader.LoadFile(net, Fixtures.File("sharded_bin"));
        Assert.True(report.IsComplete);
        var expected = Fixtures.Expected("sharded_bin");
        foreach (var (name, t) in net.state_dict()) Fixtures.AssertMatches(expected.GetProperty(name), t, name);
    }
}
