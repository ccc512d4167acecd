using static TorchSharp.torch;

namespace Vgt.Evaluation.Metrics;

/// <summary>
/// Which data range SSIM uses. <see cref="Standard"/> = 1.0 (correct for [0,1] images);
/// <see cref="VgtReference"/> = 2.0, what the reference evaluator passes (§6.1, §11.2 item 14), which makes C1, C2
/// four times larger and inflates SSIM — use it only to compare with the reported 0.863.
/// </summary>
public enum SsimDataRange { Standard, VgtReference }

/// <summary>
/// Structural similarity with skimage's defaults (<c>structural_similarity</c>, gaussian_weights=False):
/// per channel, 7×7 uniform window, K1 = 0.01, K2 = 0.03, sample covariance (×49/48), C1 = (K1·R)², C2 = (K2·R)²;
/// the SSIM map is averaged after cropping (7−1)/2 = 3 pixels from every border — i.e. over the windows that lie
/// fully inside the image — then averaged over channels. fp64.
/// </summary>
public static class Ssim
{
    public const int Window = 7;
    public const double K1 = 0.01, K2 = 0.03;

    public static double DataRange(SsimDataRange r) => r == SsimDataRange.VgtReference ? 2.0 : 1.0;

    /// <summary>Metric label: "ssim" (R = 1) or "ssim_dr2" (the reference's R = 2).</summary>
    public static string Label(SsimDataRange r) => r == SsimDataRange.VgtReference ? "ssim_dr2" : "ssim";

    /// <summary>fake, real [B,C,H,W] in [0,1] (H, W ≥ 7) → [B] (fp64).</summary>
    public static Tensor PerImage(Tensor fake, Tensor real, SsimDataRange range = SsimDataRange.Standard) =>
        PerImage(fake, real, DataRange(range));

    public static Tensor PerImage(Tensor fake, Tensor real, double dataRange)
    {
        MetricChecks.SameImages(fake, real);
        if (fake.shape[2] < Window || fake.shape[3] < Window)
            throw new ArgumentException($"SSIM needs images of at least {Window}×{Window}, got {fake.shape[2]}×{fake.shape[3]}");
        using var _ = no_grad();
        var x = fake.to(float64);
        var y = real.to(float64);
        Tensor Mean(Tensor t) => nn.functional.avg_pool2d(t, Window, stride: 1);   // valid windows only
        double n = Window * Window, covNorm = n / (n - 1);
        var ux = Mean(x); var uy = Mean(y);
        var vx = covNorm * (Mean(x * x) - ux * ux);
        var vy = covNorm * (Mean(y * y) - uy * uy);
        var vxy = covNorm * (Mean(x * y) - ux * uy);
        double c1 = Math.Pow(K1 * dataRange, 2), c2 = Math.Pow(K2 * dataRange, 2);
        var s = (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));   // [B,C,H−6,W−6]
        return s.mean([2, 3]).mean([1]);                                                         // [B]
    }
}
