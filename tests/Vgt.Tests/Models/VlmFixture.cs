using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

/// <summary>
/// A parity fixture from tools/fixtures/make_vlm_fixtures.py: weights (checkpoint names), `in.*` inputs, `out.*`
/// expected outputs and string metadata. Reads safetensors itself (F32/I64/BOOL); the one place to swap for the
/// project's checkpoint reader once it lands.
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
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "vlm", name);
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var dataStart = 8 + headerLength;
        var result = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString()!;
                continue;
            }
            var dtype = entry.Value.GetProperty("dtype").GetString();
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var span = bytes.AsSpan((int)(dataStart + offsets[0]), (int)(offsets[1] - offsets[0]));
            Tensor t = dtype switch
            {
                "F32" => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray(), shape),
                "I64" => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(span).ToArray(), shape),
                "BOOL" => tensor(span.ToArray().Select(b => b != 0).ToArray(), shape),
                _ => throw new NotSupportedException($"{name}: dtype {dtype} of '{entry.Name}'"),
            };
            result[entry.Name] = t.DetachFromDisposeScope();
        }
        return new VlmFixture(result, metadata);
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
        tensors.Clear();
    }
}
