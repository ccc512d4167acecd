using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>Name, stored dtype and shape of one tensor in a checkpoint.</summary>
public sealed record TensorInfo(string Name, ScalarType DType, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public override string ToString() => $"{Name} {CheckpointDTypes.SafetensorsName(DType)} {ShapeText(Shape)}";

    public static string ShapeText(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}

/// <summary>
/// An open checkpoint: one flat state dict (name → tensor) whose tensors are read lazily, one at a time,
/// so loading a large checkpoint never holds two copies of it in memory. Dispose to close the files.
/// </summary>
public interface ICheckpoint : IDisposable
{
    /// <summary>The file or directory it was opened from.</summary>
    string Path { get; }

    /// <summary>"safetensors", "torch-zip", "sharded-safetensors" or "sharded-torch-zip".</summary>
    string Format { get; }

    /// <summary>For PyTorch files, the nested dict that was chosen ("state_dict", "ema_state_dict", "model", …); "" for the top level.</summary>
    string StateDictKey { get; }

    /// <summary>Tensor names in file order.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>safetensors <c>__metadata__</c>; for PyTorch files the scalar entries of a top-level <c>meta</c> dict.</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    bool Contains(string name);

    /// <summary>Stored dtype and shape; throws <see cref="KeyNotFoundException"/> naming the checkpoint for unknown names.</summary>
    TensorInfo Info(string name);

    /// <summary>
    /// Reads one tensor from disk into a new CPU tensor, converted to <paramref name="dtype"/> (float32 by default;
    /// null keeps the stored dtype). The caller owns (disposes) the result.
    /// </summary>
    Tensor Load(string name, ScalarType? dtype = ScalarType.Float32);
}

/// <summary>Which state dict to take from a PyTorch training checkpoint.</summary>
public sealed record CheckpointOpenOptions
{
    /// <summary>Take <c>ema_state_dict</c> when the file has one (then <c>state_dict</c>, <c>model</c>, <c>module</c>).</summary>
    public bool PreferEma { get; init; }

    /// <summary>Take exactly this top-level key (must hold a dict); overrides <see cref="PreferEma"/>.</summary>
    public string? StateDictKey { get; init; }
}
