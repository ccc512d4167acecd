using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// VGT-AE's last decode step (belongs to the VGT-AE wrapper, not to the DC-AE decoder): the decoder's
/// [B, 3, 32h, 32w] output is bilinearly resized (align_corners = false, no antialias) to [B, 3, stride·h, stride·w],
/// stride 28 for VGT (512 → 448 for a 16×16 latent). Not clamped.
/// </summary>
public static class DecodedImageResize
{
    public const int VgtStride = 28;

    public static Tensor ToStride(Tensor decoded, long latentHeight, long latentWidth, int stride = VgtStride) // [B, C, H, W] -> [B, C, stride·h, stride·w]
    {
        if (decoded.dim() != 4) throw new ArgumentException($"Expected decoded images [B, C, H, W], got [{string.Join(", ", decoded.shape)}].");
        if (latentHeight <= 0 || latentWidth <= 0 || stride <= 0) throw new ArgumentException("Latent size and stride must be positive.");
        return nn.functional.interpolate(decoded, size: [stride * latentHeight, stride * latentWidth],
            mode: InterpolationMode.Bilinear, align_corners: false);
    }
}
