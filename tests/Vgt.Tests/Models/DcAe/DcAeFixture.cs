using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Tests.Models.DcAe;

/// <summary>
/// One parity fixture written by tools/fixtures/make_dcae_fixtures.py: "weights.*" (state dict), "input*", "expected*".
/// Read with the project's safetensors reader (see Parity).
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
        return new DcAeFixture(Parity.Load("dcae", name + ".safetensors").Tensors);
    }

    /// <summary>The "config" string of the file's safetensors metadata (the script's config dict as JSON).</summary>
    public static string MetadataConfig(string name)
    {
        using var f = Vgt.Checkpoints.SafetensorsFile.Open(PathOf(name + ".safetensors"));
        return f.Metadata["config"];
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

    public static double RelErr(Tensor actual, Tensor expected) => Parity.RelErr(actual, expected);

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
    }
}
