using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Tests.Losses;

/// <summary>
/// Reads the fixtures written by tools/fixtures/make_loss_fixtures.py. The only place that touches
/// TorchSharp.PyBridge's safetensors reader for these tests (swap for the project's checkpoint reader when it lands).
/// </summary>
internal static class LossFixtures
{
    public const double Tolerance = 1e-4;

    public static string PathOf(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "losses", name + ".safetensors");
        if (!File.Exists(path)) throw new FileNotFoundException("fixture missing; run /usr/bin/python3 tools/fixtures/make_loss_fixtures.py", path);
        return path;
    }

    public static Dictionary<string, Tensor> Load(string name) => TorchSharp.PyBridge.Safetensors.LoadStateDict(PathOf(name));

    /// <summary>The reference module's state-dict names and shapes, stored as JSON in the fixture's metadata "names".</summary>
    public static Dictionary<string, long[]> ReferenceNames(string name)
    {
        using var f = File.OpenRead(PathOf(name));
        var lenBytes = new byte[8];
        f.ReadExactly(lenBytes);
        var header = new byte[BitConverter.ToInt64(lenBytes)];
        f.ReadExactly(header);
        using var doc = JsonDocument.Parse(header);
        var names = doc.RootElement.GetProperty("__metadata__").GetProperty("names").GetString()!;
        return JsonSerializer.Deserialize<Dictionary<string, long[]>>(names)!;
    }

    /// <summary>Our module's state dict (minus num_batches_tracked) must have exactly the reference names and shapes.</summary>
    public static void AssertSameNames(nn.Module module, string fixture)
    {
        var expected = ReferenceNames(fixture);
        var actual = module.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked"))
            .ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (k, shape) in expected) Assert.True(shape.SequenceEqual(actual[k]), $"{k}: [{string.Join(",", actual[k])}] vs [{string.Join(",", shape)}]");
    }

    /// <summary>max |actual − expected| / max |expected|.</summary>
    public static double RelErr(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.to(float64);
        var diff = (actual.to(float64) - e).abs().max().item<double>();
        return diff / Math.Max(e.abs().max().item<double>(), 1e-30);
    }

    /// <summary>Copies fixture tensors named prefix + state-dict name into the module; every entry must be present.</summary>
    public static void LoadWeights(nn.Module module, Dictionary<string, Tensor> fixture, string prefix)
    {
        var weights = fixture.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        Vgt.Models.Perceptual.WeightFile.LoadInto(module, weights, "fixture");
        Assert.Equal(module.state_dict().Count(kv => !kv.Key.EndsWith("num_batches_tracked")), weights.Count);
    }
}
