using static TorchSharp.torch;

namespace Vgt.Evaluation.Metrics;

/// <summary>
/// Peak signal-to-noise ratio per image, as the reference evaluator (§6.1, skimage with the data range resolved
/// to 1.0): 10·log10(R² / MSE) over all pixels and channels of each [0,1] image, computed in fp64.
/// </summary>
public static class Psnr
{
    /// <summary>fake, real [B,C,H,W] in [0,1] → [B] (fp64); +∞ for identical images.</summary>
    public static Tensor PerImage(Tensor fake, Tensor real, double dataRange = 1.0)
    {
        MetricChecks.SameImages(fake, real);
        if (!(dataRange > 0)) throw new ArgumentOutOfRangeException(nameof(dataRange), $"data range must be > 0, got {dataRange}");
        using var _ = no_grad();
        var mse = (fake.to(float64) - real.to(float64)).square().flatten(1).mean([1]);   // [B]
        return 10 * (dataRange * dataRange / mse).log10();
    }
}
