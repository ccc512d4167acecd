using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>Boolean attention masks for the decoder (true = may attend), backbones.md §2.3.</summary>
public static class AttentionMask
{
    /// <summary>
    /// Causal-by-index plus key padding: query i (absolute index past+i) may attend key j when j ≤ past+i and
    /// keyMask[b, j]. keyMask [B, past+T] (bool or 0/1) covers cached and new keys, so padding in a cached prefix stays
    /// masked in every later step. Rows that would attend to nothing (only possible when a query is padding with
    /// only padding before it) are opened to every key to keep softmax finite; such rows are meaningless anyway.
    /// Returns [B, 1, T, past+T] bool.
    /// </summary>
    public static Tensor CausalWithPadding(Tensor? keyMask, long batch, long queryLength, long pastLength, Device device)
    {
        long total = pastLength + queryLength;
        using var scope = NewDisposeScope();
        var keyIndex = arange(total, dtype: ScalarType.Int64, device: device).unsqueeze(0);                 // [1,S]
        var queryIndex = arange(pastLength, total, dtype: ScalarType.Int64, device: device).unsqueeze(1);   // [T,1]
        var allowed = keyIndex.le(queryIndex).unsqueeze(0).expand(batch, queryLength, total);              // [B,T,S]
        if (keyMask is not null)
        {
            if (keyMask.dim() != 2 || keyMask.shape[0] != batch || keyMask.shape[1] != total)
                throw new ArgumentException($"attention mask must be [B={batch}, past+T={total}] (cached + new keys), got [{string.Join(",", keyMask.shape)}]");
            var keys = keyMask.dtype == ScalarType.Bool ? keyMask : keyMask.ne(0);
            allowed = allowed.logical_and(keys.to(device).unsqueeze(1));
        }
        var empty = allowed.any(-1, keepdim: true).logical_not();                                           // [B,T,1]
        allowed = allowed.logical_or(empty);
        return allowed.unsqueeze(1).MoveToOuterDisposeScope();
    }
}
