using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>The pooling variants of the FID Inception (TF graph semantics).</summary>
internal static class InceptionPools
{
    /// <summary>3×3 average, stride 1, pad 1, padding excluded from the count (pytorch-fid's patch).</summary>
    public static Tensor Avg3(Tensor x) =>
        nn.functional.avg_pool2d(x, [3, 3], stride: [1, 1], padding: [1, 1], count_include_pad: false);

    /// <summary>3×3 max, stride 1, pad 1 (FIDInceptionE_2's pool).</summary>
    public static Tensor Max3Same(Tensor x) => nn.functional.max_pool2d(x, [3, 3], strides: [1, 1], padding: [1, 1]);

    /// <summary>3×3 max, stride 2, no padding (reductions).</summary>
    public static Tensor Max3Stride2(Tensor x) => nn.functional.max_pool2d(x, [3, 3], strides: [2, 2]);
}
