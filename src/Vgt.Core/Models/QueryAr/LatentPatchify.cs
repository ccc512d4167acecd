using static TorchSharp.torch;

namespace Vgt.Models.QueryAr;

/// <summary>Latent grid ↔ token sequence (reference §7.3). With p = 1, token i·w + j is the C-vector at (i, j).</summary>
public static class LatentPatchify
{
    /// <summary>z [B, C, H, W] → [B, (H/p)(W/p), C·p²] (features ordered c, pi, pj).</summary>
    public static Tensor Patchify(Tensor z, int p)
    {
        if (z.dim() != 4) throw new ArgumentException($"z must be [B, C, H, W], got [{string.Join(",", z.shape)}]", nameof(z));
        if (p < 1) throw new ArgumentOutOfRangeException(nameof(p), p, "patch size must be >= 1");
        long b = z.shape[0], c = z.shape[1], hh = z.shape[2], ww = z.shape[3];
        if (hh % p != 0 || ww % p != 0) throw new ArgumentException($"latent size {hh}×{ww} is not divisible by the patch size {p}", nameof(z));
        long h = hh / p, w = ww / p;
        return z.reshape(b, c, h, p, w, p)
                .permute(0, 2, 4, 1, 3, 5)                             // [B, h, w, C, p, p]
                .reshape(b, h * w, c * p * p);
    }

    /// <summary>x [B, h·w, C·p²] → z [B, C, h·p, w·p] (exact inverse of <see cref="Patchify"/>).</summary>
    public static Tensor Unpatchify(Tensor x, int h, int w, int p)
    {
        if (x.dim() != 3) throw new ArgumentException($"x must be [B, L, C·p²], got [{string.Join(",", x.shape)}]", nameof(x));
        if (p < 1) throw new ArgumentOutOfRangeException(nameof(p), p, "patch size must be >= 1");
        if (h < 1 || w < 1 || (long)h * w != x.shape[1])
            throw new ArgumentException($"grid {h}×{w} = {(long)h * w} tokens does not match L = {x.shape[1]}", nameof(x));
        if (x.shape[2] % (p * p) != 0) throw new ArgumentException($"token width {x.shape[2]} is not divisible by p² = {p * p}", nameof(x));
        long b = x.shape[0], c = x.shape[2] / (p * p);
        return x.reshape(b, h, w, c, p, p)
                .permute(0, 3, 1, 4, 2, 5)                             // [B, C, h, p, w, p]
                .reshape(b, c, h * p, w * p);
    }
}
