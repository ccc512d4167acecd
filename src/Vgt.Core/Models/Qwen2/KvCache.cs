using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Key/value cache for incremental decoding (DynamicCache semantics, backbones.md §2.4): per layer K and V of shape
/// [B, n_kv_heads, T_cached, head_dim], K stored after RoPE, new entries appended on the time axis. The cache owns its
/// tensors (they are detached from dispose scopes); dispose the cache to free them.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;

    public KvCache(int numLayers)
    {
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), "a cache needs at least one layer");
        keys = new Tensor?[numLayers];
        values = new Tensor?[numLayers];
    }

    public int NumLayers => keys.Length;

    /// <summary>Number of cached positions (of layer 0; all layers agree between forward calls).</summary>
    public long Length => keys[0]?.shape[2] ?? 0;

    /// <summary>Batch size of the cached entries, or null while empty.</summary>
    public long? BatchSize => keys[0]?.shape[0];

    /// <summary>Appends k, v [B, n_kv, T_new, hd] to layer <paramref name="layer"/>; returns the full K, V (owned by the cache).</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        if (layer < 0 || layer >= keys.Length) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} not in [0, {keys.Length})");
        if (k.dim() != 4 || !k.shape.SequenceEqual(v.shape))
            throw new ArgumentException($"k and v must both be [B, n_kv, T, hd]; got [{string.Join(",", k.shape)}] and [{string.Join(",", v.shape)}]");
        var oldK = keys[layer];
        var oldV = values[layer];
        if (oldK is not null)
        {
            for (int axis = 0; axis < 4; axis++)
                if (axis != 2 && oldK.shape[axis] != k.shape[axis])
                    throw new ArgumentException($"layer {layer}: new entries [{string.Join(",", k.shape)}] do not fit the cache [{string.Join(",", oldK.shape)}] (axis {axis})");
        }
        var newK = oldK is null ? k.clone() : cat([oldK, k], 2);
        var newV = oldV is null ? v.clone() : cat([oldV!, v], 2);
        keys[layer] = newK.DetachFromDisposeScope();
        values[layer] = newV.DetachFromDisposeScope();
        oldK?.Dispose();
        oldV?.Dispose();
        return (keys[layer]!, values[layer]!);
    }

    public void Dispose()
    {
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose();
            values[i]?.Dispose();
            keys[i] = values[i] = null;
        }
    }
}
