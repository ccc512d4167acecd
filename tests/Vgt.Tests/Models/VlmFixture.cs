using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

/// <summary>
/// A parity fixture from tools/fixtures/make_vlm_fixtures.py: weights (checkpoint names), `in.*` inputs, `out.*`
/// expected outputs and string metadata. Read with the project's safetensors reader (see Parity).
/// </summary>
internal sealed class VlmFixture : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors = new();

    public IReadOnlyDictionary<string, string> Metadata { get; }

    private VlmFixture(Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata)
    {
        this.tensors = tensors;
        Metadata = metadata;
    }

    public static VlmFixture Load(string name)
    {
        var (tensors, metadata) = Parity.Load("vlm", name);
        return new VlmFixture(tensors, metadata.ToDictionary());
    }

    public Tensor this[string key] => tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"fixture has no tensor '{key}'");

    /// <summary>
    /// Copies the fixture weights (every key not starting with in./out.) into the module's state dict, strictly:
    /// every module entry must be found under prefix + name with the same shape, and every fixture weight must be used.
    /// </summary>
    public void LoadInto(nn.Module module, string prefix = "")
    {
        var unused = tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !k.StartsWith("in.", StringComparison.Ordinal)
                                             && !k.StartsWith("out.", StringComparison.Ordinal)).ToHashSet();
        using var _ = no_grad();
        foreach (var (name, target) in module.state_dict())
        {
            var key = prefix + name;
            Assert.True(tensors.TryGetValue(key, out var source), $"fixture lacks module entry '{key}'");
            Assert.Equal(target.shape, source!.shape);
            target.copy_(source);
            unused.Remove(key);
        }
        Assert.True(unused.Count == 0, $"fixture weights not in the module: {string.Join(", ", unused)}");
    }

    /// <summary>max|a − b| / max|b|.</summary>
    public static double RelErr(Tensor actual, Tensor expected) => Parity.RelErr(actual, expected);

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}
