using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// Cross-entropy over positions where the positives (e.g. cells an object covers) and the rest weigh half each: objects
/// cover a small part of a grid, and a plain mean would let "none" everywhere look nearly right.
/// </summary>
public static class BalancedCrossEntropy
{
    /// <summary>logits [N, K], labels [N] int64, positive [N] bool → a scalar.</summary>
    public static Tensor Loss(Tensor logits, Tensor labels, Tensor positive)
    {
        var perToken = nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None);     // [N]
        var w = positive.to_type(ScalarType.Float32);
        return (perToken * w).sum() / w.sum().clamp_min(1) * 0.5 + (perToken * (1 - w)).sum() / (1 - w).sum().clamp_min(1) * 0.5;
    }
}
