using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Tests.Models.DcAe;

/// <summary>
/// One parity fixture written by tools/fixtures/make_dcae_fixtures.py: "weights.*" (state dict), "input*", "expected*".
/// The only place that reads safetensors (through TorchSharp.PyBridge) until the project's checkpoint reader lands.
/// </summary>
internal sealed class DcAeFixture : IDisposable
{
    readonly Dictionary<string, Tensor> tensors;

    DcAeFixture(Dictionary<string, Tensor> tensors) => this.tensors = tensors;

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "dcae", file);

    public static DcAeFixture Load(string name)
    {
        var path = PathOf(name + ".safetensors");
        Assert.True(File.Exists(path), $"missing fixture {path}; run /usr/bin/python3 tools/fixtures/make_dcae_fixtures.py");
        return new DcAeFixture(TorchSharp.PyBridge.Safetensors.LoadStateDict(path));
    }

    /// <summary>The "config" string of the file's safetensors metadata (the script's config dict as JSON).</summary>
    public static string MetadataConfig(string name)
    {
        using var f = File.OpenRead(PathOf(name + ".safetensors"));
        var len = new byte[8];
        f.ReadExactly(len);
        var header = new byte[BitConverter.ToUInt64(len)];
        f.ReadExactly(header);
        using var doc = System.Text.Json.JsonDocument.Parse(header);
        return doc.RootElement.GetProperty("__metadata__").GetProperty("config").GetString()!;
    }

    public Tensor this[string key] => tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"fixture has no '{key}'");

    /// <summary>The module's weights with the "weights." prefix removed.</summary>
    public Dictionary<string, Tensor> Weights(string newPrefix = "") => tensors
        .Where(kv => kv.Key.StartsWith("weights.", StringComparison.Ordinal))
        .ToDictionary(kv => newPrefix + kv.Key["weights.".Length..], kv => kv.Value);

    /// <summary>Loads the weights strictly (every name must match both ways) and switches to eval mode.</summary>
    public T Into<T>(T module) where T : nn.Module
    {
        var weights = Weights();
        var own = module.state_dict().Keys.ToHashSet();
        Assert.Equal(own.Order(), weights.Keys.Order());
        module.load_state_dict(weights, strict: true);
        module.eval();
        return module;
    }

    /// <summary>max |actual − expected| / max |expected| (both fp32).</summary>
    public static double RelErr(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var diff = (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max().item<double>();
        var scale = expected.to_type(ScalarType.Float64).abs().max().item<double>();
        return diff / scale;
    }

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
    }
}
