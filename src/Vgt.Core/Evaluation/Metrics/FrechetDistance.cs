using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Vgt.Evaluation.Metrics;

/// <summary>
/// Fréchet distance between two Gaussians (the FID formula, §6.1), fp64:
/// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr √(Σ₁Σ₂).
/// tr √(Σ₁Σ₂) = tr √(√Σ₁ Σ₂ √Σ₁) (same eigenvalues), computed from symmetric eigendecompositions with negative
/// round-off eigenvalues clipped to 0 — no complex parts, robust for singular covariances. If the result is not
/// finite or the eigensolver fails to converge, eps·I is added to both covariances and it is recomputed
/// (pytorch-fid's offset, eps = 1e‑6).
/// </summary>
public static class FrechetDistance
{
    public static double Compute(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2, double eps = 1e-6)
    {
        if (mu1.dim() != 1 || !mu1.shape.SequenceEqual(mu2.shape) || !sigma1.shape.SequenceEqual(sigma2.shape)
            || sigma1.dim() != 2 || sigma1.shape[0] != mu1.shape[0] || sigma1.shape[1] != mu1.shape[0])
            throw new ArgumentException($"need μ [D] and Σ [D,D] of one width, got μ [{string.Join(",", mu1.shape)}]/[{string.Join(",", mu2.shape)}], Σ [{string.Join(",", sigma1.shape)}]/[{string.Join(",", sigma2.shape)}]");
        using var _ = no_grad();
        var m1 = mu1.to(float64); var m2 = mu2.to(float64);
        var s1 = sigma1.to(float64); var s2 = sigma2.to(float64);
        double diff = (m1 - m2).square().sum().item<double>();
        double tr1 = s1.trace().item<double>(), tr2 = s2.trace().item<double>();
        double trSqrt;
        try { trSqrt = TraceSqrtProduct(s1, s2); }
        catch (ExternalException) { trSqrt = double.NaN; }   // eigh did not converge
        if (!double.IsFinite(trSqrt))
        {
            var offset = eye(s1.shape[0], dtype: float64) * eps;
            trSqrt = TraceSqrtProduct(s1 + offset, s2 + offset);
        }
        return diff + tr1 + tr2 - 2 * trSqrt;
    }

    /// <summary>tr √(AB) for symmetric positive semi-definite A, B [D,D] (fp64).</summary>
    public static double TraceSqrtProduct(Tensor a, Tensor b)
    {
        using var _ = no_grad();
        var sqrtA = SymmetricSqrt(a);
        var m = sqrtA.matmul(b).matmul(sqrtA);
        m = (m + m.t()) / 2;                                  // symmetric up to round-off
        var ev = linalg.eigvalsh(m).clamp_min(0);
        return ev.sqrt().sum().item<double>();
    }

    /// <summary>√A of a symmetric PSD matrix via eigh (negative eigenvalues clipped to 0).</summary>
    public static Tensor SymmetricSqrt(Tensor a)
    {
        var sym = (a + a.t()) / 2;
        var (w, v) = linalg.eigh(sym);
        return (v * w.clamp_min(0).sqrt().unsqueeze(0)).matmul(v.t());
    }

    /// <summary>The distance between two feature sets' statistics.</summary>
    public static double Compute(FeatureStatistics a, FeatureStatistics b, double eps = 1e-6) =>
        Compute(a.Mean(), a.Covariance(), b.Mean(), b.Covariance(), eps);
}
