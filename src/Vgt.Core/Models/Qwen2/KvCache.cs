using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Key/value cache for incremental decoding (DynamicCache semantics, backbones.md §2.4): per layer K and V of shape
/// [B, n_kv_heads, T_cached, head_dim], K stored after RoPE, new entries appended on the time axis. The cache owns its
/// tensors (they are detached from dispose scopes); dispose the cache to free them. For inference: appends write
/// into the storage in place, which autograd cannot differentiate through.
/// </summary>
public sealed class KvCache : IDisposable
{
    // Per layer: storage [B, n_kv, capacity, hd] and the number of positions in use. Appending copies the new entries
    // into free capacity and grows the storage by doubling, so decoding L positions one group at a time costs O(L)
    // copies in total instead of the O(L²) of re-concatenating the whole cache at every step.
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;
    private readonly long[] lengths;

    public KvCache(int numLayers)
    {
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), "a cache needs at least one layer");
        keys = new Tensor?[numLayers];
        values = new Tensor?[numLayers];
        lengths = new long[numLayers];
    }

    public int NumLayers => keys.Length;

    /// <summary>Number of cached positions (of layer 0; all layers agree between forward calls).</summary>
    public long Length => lengths[0];

    /// <summary>Batch size of the cached entries, or null while empty.</summary>
    public long? BatchSize => keys[0]?.shape[0];

    /// <summary>Positions layer 0 can hold before its storage grows.</summary>
    public long Capacity => keys[0]?.shape[2] ?? 0;

    /// <summary>
    /// Appends k, v [B, n_kv, T_new, hd] to layer <paramref name="layer"/>; returns the full K, V [B, n_kv, past + T_new, hd]
    /// as views of the cache's storage, valid until the next append to this layer.
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        if (layer < 0 || layer >= keys.Length) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} not in [0, {keys.Length})");
        if (k.dim() != 4 || !k.shape.SequenceEqual(v.shape))
            throw new ArgumentException($"k and v must both be [B, n_kv, T, hd]; got [{string.Join(",", k.shape)}] and [{string.Join(",", v.shape)}]");
        var storeK = keys[layer];
        if (storeK is not null)
        {
            for (int axis = 0; axis < 4; axis++)
                if (axis != 2 && storeK.shape[axis] != k.shape[axis])
                    throw new ArgumentException($"layer {layer}: new entries [{string.Join(",", k.shape)}] do not fit the cache [{storeK.shape[0]},{storeK.shape[1]},{lengths[layer]},{storeK.shape[3]}] (axis {axis})");
            if (k.dtype != storeK.dtype || k.device.ToString() != storeK.device.ToString())
                throw new ArgumentException($"layer {layer}: new entries are {k.dtype} on {k.device}, the cache holds {storeK.dtype} on {storeK.device}");
        }
        long past = lengths[layer], n = k.shape[2], needed = past + n;
        if (storeK is null || needed > storeK.shape[2])
        {
            long capacity = Math.Max(needed, 2 * (storeK?.shape[2] ?? 0));
            keys[layer] = Grow(storeK, k, capacity, past);
            values[layer] = Grow(values[layer], v, capacity, past);
        }
        keys[layer]!.narrow(2, past, n).copy_(k);
        values[layer]!.narrow(2, past, n).copy_(v);
        lengths[layer] = needed;
        return (keys[layer]!.narrow(2, 0, needed), values[layer]!.narrow(2, 0, needed));
    }

    /// <summary>
    /// Makes row i of the cache a copy of the current row <paramref name="rows"/>[i] in every layer; the batch size becomes
    /// rows.Length. Beam search uses it to expand each prompt into its beams and to follow the beams that survive a step.
    /// </summary>
    public void SelectRows(IReadOnlyList<long> rows)
    {
        if (keys[0] is null) throw new InvalidOperationException("the cache is empty: there are no rows to select");
        if (rows.Count == 0) throw new ArgumentException("at least one row must be selected");
        long batch = keys[0]!.shape[0];
        foreach (var r in rows)
            if (r < 0 || r >= batch) throw new ArgumentOutOfRangeException(nameof(rows), r, $"row {r} is not in the cache's batch [0, {batch})");
        using var index = tensor(rows.ToArray(), device: keys[0]!.device);
        for (int i = 0; i < keys.Length; i++)
        {
            if (keys[i] is null) continue;
            var k = keys[i]!.index_select(0, index).DetachFromDisposeScope();
            var v = values[i]!.index_select(0, index).DetachFromDisposeScope();
            keys[i]!.Dispose();
            values[i]!.Dispose();
            keys[i] = k;
            values[i] = v;
        }
    }

    /// <summary>New storage of <paramref name="capacity"/> positions holding the first <paramref name="used"/> of <paramref name="old"/> (disposed).</summary>
    private static Tensor Grow(Tensor? old, Tensor like, long capacity, long used)
    {
        var store = empty([like.shape[0], like.shape[1], capacity, like.shape[3]], dtype: like.dtype, device: like.device).DetachFromDisposeScope();
        if (old is not null)
        {
            if (used > 0) store.narrow(2, 0, used).copy_(old.narrow(2, 0, used));
            old.Dispose();
        }
        return store;
    }

    public void Dispose()
    {
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose();
            values[i]?.Dispose();
            keys[i] = values[i] = null;
            lengths[i] = 0;
        }
    }
}
