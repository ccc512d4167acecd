using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>
/// Mixed_5b/5c/5d (pytorch-fid's FIDInceptionA): 1×1 (64) | 1×1 (48) → 5×5 (64) | 1×1 (64) → 3×3 (96) → 3×3 (96) |
/// avg-pool 3×3 (count_include_pad=False) → 1×1 (pool_features). Output 224 + pool_features channels.
/// </summary>
public sealed class InceptionA : nn.Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch1x1, branch5x5_1, branch5x5_2, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3, branch_pool;

    public InceptionA(long cin, long poolFeatures) : base("InceptionA")
    {
        branch1x1 = new BasicConv2d(cin, 64, 1);
        branch5x5_1 = new BasicConv2d(cin, 48, 1);
        branch5x5_2 = new BasicConv2d(48, 64, 5, padding: 2);
        branch3x3dbl_1 = new BasicConv2d(cin, 64, 1);
        branch3x3dbl_2 = new BasicConv2d(64, 96, 3, padding: 1);
        branch3x3dbl_3 = new BasicConv2d(96, 96, 3, padding: 1);
        branch_pool = new BasicConv2d(cin, poolFeatures, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => cat([
        branch1x1.forward(x),
        branch5x5_2.forward(branch5x5_1.forward(x)),
        branch3x3dbl_3.forward(branch3x3dbl_2.forward(branch3x3dbl_1.forward(x))),
        branch_pool.forward(InceptionPools.Avg3(x)),
    ], 1);
}
