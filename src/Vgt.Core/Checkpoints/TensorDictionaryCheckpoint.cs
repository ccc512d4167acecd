using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>
/// A state dict already in memory (name → tensor) seen as an <see cref="ICheckpoint"/>, so that
/// <see cref="StateDictLoader"/>'s prefixes, checks and load report apply to it too. It does not own the tensors:
/// <see cref="Load"/> returns copies and disposing it frees nothing.
/// </summary>
public sealed class TensorDictionaryCheckpoint(IReadOnlyDictionary<string, Tensor> tensors, string source) : ICheckpoint
{
    public string Path => source;
    public string Format => "in-memory";
    public string StateDictKey => "";
    public IReadOnlyList<string> Names { get; } = tensors.Keys.ToList();
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    public bool Contains(string name) => tensors.ContainsKey(name);

    public TensorInfo Info(string name) => tensors.TryGetValue(name, out var t)
        ? new TensorInfo(name, t.dtype, t.shape)
        : throw new KeyNotFoundException($"'{name}' is not in {source}");

    public Tensor Load(string name, ScalarType? dtype = ScalarType.Float32)
    {
        var t = tensors.TryGetValue(name, out var found) ? found : throw new KeyNotFoundException($"'{name}' is not in {source}");
        using var cpu = t.detach().cpu();
        return dtype is { } d ? cpu.to_type(d).clone() : cpu.clone();
    }

    public void Dispose() { }
}
