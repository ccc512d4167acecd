using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>
/// TensorFlow 1.x <c>resize_bilinear</c> with align_corners=False (no half-pixel centres), as torch-fidelity
/// reproduces it for the FID Inception: source coordinate = dst · (in/out), with the scale rounded to fp32 first;
/// lo = ⌊src⌋, hi = min(lo+1, in−1); lerp along x, then along y.
/// </summary>
public static class Tf1Bilinear
{
    /// <summary>x [B,C,H,W] (floating) → [B,C,outH,outW].</summary>
    public static Tensor Resize(Tensor x, long outH, long outW)
    {
        if (x.dim() != 4 || !x.is_floating_point())
            throw new ArgumentException($"expected a floating [B,C,H,W] tensor, got {x.dtype} [{string.Join(",", x.shape)}]", nameof(x));
        var (ylo, yhi, dy) = Axis(x.shape[2], outH, x);
        var (xlo, xhi, dx) = Axis(x.shape[3], outW, x);
        var rowsLo = x.index_select(2, ylo);
        var rowsHi = x.index_select(2, yhi);
        dx = dx.view(1, 1, 1, outW);
        var top = Lerp(rowsLo.index_select(3, xlo), rowsLo.index_select(3, xhi), dx);
        var bottom = Lerp(rowsHi.index_select(3, xlo), rowsHi.index_select(3, xhi), dx);
        return Lerp(top, bottom, dy.view(1, 1, outH, 1));
    }

    static Tensor Lerp(Tensor a, Tensor b, Tensor t) => a + (b - a) * t;

    static (Tensor Lo, Tensor Hi, Tensor Frac) Axis(long inSize, long outSize, Tensor like)
    {
        double scale = (float)((double)inSize / outSize);
        var src = arange(outSize, dtype: float64) * scale;          // [out]
        var lo = src.floor().to(int64);
        var hi = (lo + 1).clamp_max(inSize - 1);
        var frac = (src - lo.to(float64)).to(like.dtype);
        return (lo, hi, frac);
    }
}
