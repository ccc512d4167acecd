using TorchSharp;
using Vgt.Checkpoints;
using static TorchSharp.torch;

namespace Vgt.Tests.Checkpoints;

public class TorchZipTests
{
    [Fact]
    public void ReadsAPlainStateDictBin()
    {
        using var ck = CheckpointReader.Open(Fixtures.File("plain_state_dict.bin"));
        var expected = Fixtures.Expected("plain_state_dict.bin");
        Assert.Equal("torch-zip", ck.Format);
        Assert.Equal("", ck.StateDictKey);
        Assert.Equal(["proj.weight", "proj.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "head.weight"], ck.Names);
        foreach (var name in ck.Names)
        {
            using var t = ck.Load(name);
            Fixtures.AssertMatches(expected.GetProperty(name), t, name);
        }
        Assert.Equal(ScalarType.Int64, ck.Info("bn.num_batches_tracked").DType);
    }

    [Fact]
    public void TrainingCheckpointDefaultsToStateDictAndRebuildsViews()
    {
        // state_dict holds a transposed view (strides (1,4)) and a slice at storage offset 3 of a storage
        // shared with message_hub; meta and message_hub hold numpy objects, which stay opaque.
        using var ck = CheckpointReader.Open(Fixtures.File("mmengine_style.pth"));
        var expected = Fixtures.Expected("mmengine_style.pth/state_dict");
        Assert.Equal("state_dict", ck.StateDictKey);
        Assert.Equal(8, ck.Names.Count);
        foreach (var name in ck.Names)
        {
            using var t = ck.Load(name);
            Fixtures.AssertMatches(expected.GetProperty(name), t, name);
        }
        Assert.Equal("3", ck.Metadata["epoch"]);
        Assert.Equal("tiny", ck.Metadata["experiment_name"]);
        Assert.Equal("0.5", ck.Metadata["lr"]);
        Assert.False(ck.Metadata.ContainsKey("hist")); // a numpy array is not a scalar
    }

    [Fact]
    public void PreferEmaTakesTheEmaStateDict()
    {
        using var ck = CheckpointReader.Open(Fixtures.File("mmengine_style.pth"), new CheckpointOpenOptions { PreferEma = true });
        var expected = Fixtures.Expected("mmengine_style.pth/ema_state_dict");
        Assert.Equal("ema_state_dict", ck.StateDictKey);
        Assert.Contains("module.proj.weight", ck.Names);
        Assert.Contains("steps", ck.Names);
        foreach (var name in ck.Names)
        {
            using var t = ck.Load(name);
            Fixtures.AssertMatches(expected.GetProperty(name), t, name);
        }
    }

    [Fact]
    public void ExplicitStateDictKeyMustExist()
    {
        var e = Assert.Throws<CheckpointFormatException>(() =>
            CheckpointReader.Open(Fixtures.File("mmengine_style.pth"), new CheckpointOpenOptions { StateDictKey = "nope" }));
        Assert.Contains("mmengine_style.pth", e.Message);
        Assert.Contains("'nope'", e.Message);
        Assert.Contains("'ema_state_dict'", e.Message); // lists what is there
    }

    [Fact]
    public void Protocol4PickleWithModelWrapper()
    {
        using var ck = CheckpointReader.Open(Fixtures.File("model_wrapped_proto4.pth"));
        Assert.Equal("model", ck.StateDictKey);
        var expected = Fixtures.Expected("model_wrapped_proto4.pth");
        foreach (var name in ck.Names)
        {
            using var t = ck.Load(name);
            Fixtures.AssertMatches(expected.GetProperty(name), t, name);
        }
    }

    [Fact]
    public void LegacyNonZipFormatIsRefusedClearly()
    {
        var path = Fixtures.File("legacy_format.pth");
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("legacy", e.Message);
    }
}

public class ShardedCheckpointTests
{
    [Theory]
    [InlineData("sharded_safetensors", "sharded-safetensors")]
    [InlineData("sharded_bin", "sharded-torch-zip")]
    public void ReadsShardedDirectories(string dir, string format)
    {
        using var ck = CheckpointReader.Open(Fixtures.File(dir));
        Assert.Equal(format, ck.Format);
        var expected = Fixtures.Expected(dir);
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), ck.Names.Order());
        foreach (var name in ck.Names)
        {
            using var t = ck.Load(name);
            Fixtures.AssertMatches(expected.GetProperty(name), t, name);
        }
        Assert.Equal("168", ck.Metadata["total_size"]);
    }

    private static string CopyShards(TempDir tmp, string dir)
    {
        foreach (var f in Directory.GetFiles(Fixtures.File(dir))) File.Copy(f, tmp.File(Path.GetFileName(f)));
        return tmp.File("model.safetensors.index.json");
    }

    [Fact]
    public void MissingShardIsNamed()
    {
        using var tmp = new TempDir();
        var index = CopyShards(tmp, "sharded_safetensors");
        File.Delete(tmp.File("model-00002-of-00002.safetensors"));
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(tmp.Path));
        Assert.Equal(index, e.Path);
        Assert.Contains("'model-00002-of-00002.safetensors'", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void IndexPointingToTheWrongShardOrOutsideTheDirectoryIsRefused()
    {
        using var tmp = new TempDir();
        var index = CopyShards(tmp, "sharded_safetensors");
        var json = File.ReadAllText(index);
        File.WriteAllText(index, json.Replace("\"head.weight\": \"model-00002-of-00002.safetensors\"", "\"head.weight\": \"model-00001-of-00002.safetensors\""));
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(index));
        Assert.Contains("'head.weight'", e.Message);

        File.WriteAllText(index, json.Replace("\"head.weight\": \"model-00002-of-00002.safetensors\"", "\"head.weight\": \"../evil.safetensors\""));
        e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(index));
        Assert.Contains("outside the checkpoint directory", e.Message);
    }

    [Fact]
    public void DirectoryWithoutACheckpointIsRefused()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Open(tmp.Path));
        Assert.Contains("model.safetensors.index.json", e.Message);
    }
}
