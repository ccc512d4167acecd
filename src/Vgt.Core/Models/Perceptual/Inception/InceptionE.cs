using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>
/// Mixed_7b / Mixed_7c (pytorch-fid's FIDInceptionE_1 / FIDInceptionE_2): 1×1 (320) | 1×1 (384) → [1×3, 3×1] (2·384) |
/// 1×1 (448) → 3×3 (384) → [1×3, 3×1] (2·384) | pool → 1×1 (192). Output 2048. The pool is a 3×3 average with
/// count_include_pad=False in Mixed_7b and a 3×3 max in Mixed_7c (as in the TF graph).
/// </summary>
public sealed class InceptionE : nn.Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch1x1, branch3x3_1, branch3x3_2a, branch3x3_2b;
    private readonly BasicConv2d branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3a, branch3x3dbl_3b, branch_pool;
    private readonly bool maxPool;

    public InceptionE(long cin, bool maxPool) : base("InceptionE")
    {
        this.maxPool = maxPool;
        branch1x1 = new BasicConv2d(cin, 320, 1);
        branch3x3_1 = new BasicConv2d(cin, 384, 1);
        branch3x3_2a = new BasicConv2d(384, 384, (1, 3), padding: (0, 1));
        branch3x3_2b = new BasicConv2d(384, 384, (3, 1), padding: (1, 0));
        branch3x3dbl_1 = new BasicConv2d(cin, 448, 1);
        branch3x3dbl_2 = new BasicConv2d(448, 384, 3, padding: 1);
        branch3x3dbl_3a = new BasicConv2d(384, 384, (1, 3), padding: (0, 1));
        branch3x3dbl_3b = new BasicConv2d(384, 384, (3, 1), padding: (1, 0));
        branch_pool = new BasicConv2d(cin, 192, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var t = branch3x3_1.forward(x);
        var d = branch3x3dbl_2.forward(branch3x3dbl_1.forward(x));
        var pool = maxPool ? InceptionPools.Max3Same(x) : InceptionPools.Avg3(x);
        return cat([
            branch1x1.forward(x),
            branch3x3_2a.forward(t), branch3x3_2b.forward(t),
            branch3x3dbl_3a.forward(d), branch3x3dbl_3b.forward(d),
            branch_pool.forward(pool),
        ], 1);
    }
}
