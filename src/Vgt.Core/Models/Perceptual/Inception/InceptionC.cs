using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>
/// Mixed_6b..6e (pytorch-fid's FIDInceptionC): 1×1 (192) | 1×1 (c7) → 1×7 → 7×1 (192) |
/// 1×1 (c7) → 7×1 → 1×7 → 7×1 → 1×7 (192) | avg-pool (count_include_pad=False) → 1×1 (192). Output 768.
/// </summary>
public sealed class InceptionC : nn.Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch1x1, branch7x7_1, branch7x7_2, branch7x7_3;
    private readonly BasicConv2d branch7x7dbl_1, branch7x7dbl_2, branch7x7dbl_3, branch7x7dbl_4, branch7x7dbl_5, branch_pool;

    public InceptionC(long cin, long c7) : base("InceptionC")
    {
        (long, long) k17 = (1, 7), k71 = (7, 1), p17 = (0, 3), p71 = (3, 0);
        branch1x1 = new BasicConv2d(cin, 192, 1);
        branch7x7_1 = new BasicConv2d(cin, c7, 1);
        branch7x7_2 = new BasicConv2d(c7, c7, k17, padding: p17);
        branch7x7_3 = new BasicConv2d(c7, 192, k71, padding: p71);
        branch7x7dbl_1 = new BasicConv2d(cin, c7, 1);
        branch7x7dbl_2 = new BasicConv2d(c7, c7, k71, padding: p71);
        branch7x7dbl_3 = new BasicConv2d(c7, c7, k17, padding: p17);
        branch7x7dbl_4 = new BasicConv2d(c7, c7, k71, padding: p71);
        branch7x7dbl_5 = new BasicConv2d(c7, 192, k17, padding: p17);
        branch_pool = new BasicConv2d(cin, 192, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var b7 = branch7x7_3.forward(branch7x7_2.forward(branch7x7_1.forward(x)));
        var d = branch7x7dbl_1.forward(x);
        d = branch7x7dbl_5.forward(branch7x7dbl_4.forward(branch7x7dbl_3.forward(branch7x7dbl_2.forward(d))));
        return cat([branch1x1.forward(x), b7, d, branch_pool.forward(InceptionPools.Avg3(x))], 1);
    }
}
