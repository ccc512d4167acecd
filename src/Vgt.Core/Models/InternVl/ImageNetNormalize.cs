using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>InternViT input normalisation (vgt-reference §2.5): [−1,1] → [0,1] → (x − mean) / std with ImageNet statistics.</summary>
public static class ImageNetNormalize
{
    public static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    public static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    /// <summary>x [B,3,H,W] in [−1,1] → normalised pixels. Always applied (no data-dependent branch, unlike the reference's `if x.min() &lt; 0`).</summary>
    public static Tensor FromSigned(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != 3) throw new ArgumentException($"expected [B,3,H,W] images, got [{string.Join(",", x.shape)}]");
        using var scope = NewDisposeScope();
        var mean = tensor(Mean, device: x.device).view(1, 3, 1, 1).to_type(x.dtype);
        var std = tensor(Std, device: x.device).view(1, 3, 1, 1).to_type(x.dtype);
        return (((x + 1) / 2 - mean) / std).MoveToOuterDisposeScope();
    }
}
