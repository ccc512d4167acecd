using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>Mixed_6a (grid reduction 35→17): 3×3/2 (384) | 1×1 (64) → 3×3 (96) → 3×3/2 (96) | max-pool 3×3/2. Output 480 + cin.</summary>
public sealed class InceptionB : nn.Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch3x3, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3;

    public InceptionB(long cin) : base("InceptionB")
    {
        branch3x3 = new BasicConv2d(cin, 384, 3, stride: 2);
        branch3x3dbl_1 = new BasicConv2d(cin, 64, 1);
        branch3x3dbl_2 = new BasicConv2d(64, 96, 3, padding: 1);
        branch3x3dbl_3 = new BasicConv2d(96, 96, 3, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => cat([
        branch3x3.forward(x),
        branch3x3dbl_3.forward(branch3x3dbl_2.forward(branch3x3dbl_1.forward(x))),
        InceptionPools.Max3Stride2(x),
    ], 1);
}
