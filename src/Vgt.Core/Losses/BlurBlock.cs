using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// Anti-aliased 2× downsampling of the discriminator (reference §5.3): a fixed depthwise kernel
/// outer(t, t)/Σ (t = [1,3,3,1] → /64 by default), stride 2, SAME padding computed as for k = 4, s = 2 whatever
/// the taps (as the reference). Buffer <c>kernel</c> [1,1,k,k] (part of the reference state dict).
/// </summary>
public sealed class BlurBlock : nn.Module<Tensor, Tensor>
{
    private readonly Tensor kernel;

    public BlurBlock(params float[] taps) : base("BlurBlock")
    {
        if (taps.Length == 0) taps = [1, 3, 3, 1];
        var t = tensor(taps);
        var k2 = outer(t, t);
        kernel = (k2 / k2.sum()).view(1, 1, taps.Length, taps.Length);
        RegisterComponents();
    }

    /// <summary>Binomial taps for the reference's blur kernel sizes 3, 4, 5.</summary>
    public static float[] Taps(int size) => size switch
    {
        3 => [1, 2, 1],
        4 => [1, 3, 3, 1],
        5 => [1, 4, 6, 4, 1],
        _ => throw new ArgumentOutOfRangeException(nameof(size), $"blur kernel size must be 3, 4 or 5, got {size}"),
    };

    /// <summary>x [B,C,H,W] → [B,C,⌈H/2⌉,⌈W/2⌉] (for the 4-tap kernel).</summary>
    public override Tensor forward(Tensor x)
    {
        x = Conv2dSame.PadSame(x, 4, 2);
        long c = x.shape[1];
        return nn.functional.conv2d(x, kernel.to(x.dtype).expand(c, -1, -1, -1), strides: [2, 2], groups: c);
    }
}
