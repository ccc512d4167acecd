using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>REPA alignment loss (reference §8.6): −mean over tokens of cos(normalize(target), normalize(features)).</summary>
public static class RepaLoss
{
    /// <summary>features [N, F], target [N, F] → scalar in [−1, 1] (unweighted; the reference weights it by 0.5).</summary>
    public static Tensor NegativeCosine(Tensor features, Tensor target)
    {
        if (!features.shape.SequenceEqual(target.shape) || features.dim() != 2)
            throw new ArgumentException(
                $"REPA features and target must both be [N, F] with equal shapes, got [{string.Join(",", features.shape)}] and [{string.Join(",", target.shape)}]");
        var a = nn.functional.normalize(features.to(float32), p: 2, dim: -1, eps: 1e-12);
        var b = nn.functional.normalize(target.to(float32), p: 2, dim: -1, eps: 1e-12);
        return -(a * b).sum(-1).mean();
    }
}
