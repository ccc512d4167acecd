using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>Mixed_7a (grid reduction 17→8): 1×1 (192) → 3×3/2 (320) | 1×1 → 1×7 → 7×1 → 3×3/2 (192) | max-pool 3×3/2. Output 512 + cin.</summary>
public sealed class InceptionD : nn.Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch3x3_1, branch3x3_2, branch7x7x3_1, branch7x7x3_2, branch7x7x3_3, branch7x7x3_4;

    public InceptionD(long cin) : base("InceptionD")
    {
        branch3x3_1 = new BasicConv2d(cin, 192, 1);
        branch3x3_2 = new BasicConv2d(192, 320, 3, stride: 2);
        branch7x7x3_1 = new BasicConv2d(cin, 192, 1);
        branch7x7x3_2 = new BasicConv2d(192, 192, (1, 7), padding: (0, 3));
        branch7x7x3_3 = new BasicConv2d(192, 192, (7, 1), padding: (3, 0));
        branch7x7x3_4 = new BasicConv2d(192, 192, 3, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var b = branch7x7x3_4.forward(branch7x7x3_3.forward(branch7x7x3_2.forward(branch7x7x3_1.forward(x))));
        return cat([branch3x3_2.forward(branch3x3_1.forward(x)), b, InceptionPools.Max3Stride2(x)], 1);
    }
}
