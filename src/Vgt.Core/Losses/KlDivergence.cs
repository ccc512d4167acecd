using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>KL of a diagonal Gaussian posterior to N(0, I) (reference §5.2, only when the AE has kl=True).</summary>
public static class KlDivergence
{
    /// <summary>mean, logvar [B, ...] → per-sample 0.5·Σ(μ² + σ² − 1 − log σ²) over the non-batch dims, [B].</summary>
    public static Tensor DiagonalGaussian(Tensor mean, Tensor logvar)
    {
        if (!mean.shape.SequenceEqual(logvar.shape) || mean.dim() < 2)
            throw new ArgumentException($"mean and logvar must share a [B,...] shape, got [{string.Join(",", mean.shape)}] and [{string.Join(",", logvar.shape)}]");
        var kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar);
        return kl.flatten(1).sum(1);
    }
}
