using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// DC-AE ×2 down-sampling block (diffusers <c>DCDownBlock2d</c>, key <c>down_blocks.{i}.{layers}.conv</c>).
/// Main path, "Conv": conv 3×3 stride 2, Cin→Cout; "pixel_unshuffle": conv 3×3 stride 1, Cin→Cout/4, then pixel_unshuffle(2).
/// Averaging shortcut (when enabled): pixel_unshuffle(x, 2) → 4·Cin channels, mean over consecutive groups of 4·Cin/Cout.
/// </summary>
public sealed class DownBlock : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv; // Conv: weight [Cout, Cin, 3, 3]; pixel_unshuffle: [Cout/4, Cin, 3, 3]; bias likewise

    readonly bool pixelUnshuffle;
    readonly bool shortcut;
    readonly long groupSize;

    public DownBlock(long inChannels, long outChannels, bool pixelUnshuffle, bool shortcut = true, Device? device = null) : base(nameof(DownBlock))
    {
        if (shortcut && 4 * inChannels % outChannels != 0)
            throw new ArgumentException($"Down block {inChannels}→{outChannels}: the averaging shortcut needs 4·in divisible by out.");
        if (pixelUnshuffle && outChannels % 4 != 0)
            throw new ArgumentException($"Down block {inChannels}→{outChannels}: pixel_unshuffle needs out divisible by 4.");
        this.pixelUnshuffle = pixelUnshuffle;
        this.shortcut = shortcut;
        groupSize = 4 * inChannels / outChannels;
        conv = pixelUnshuffle
            ? nn.Conv2d(inChannels, outChannels / 4, 3, stride: 1, padding: 1, device: device)
            : nn.Conv2d(inChannels, outChannels, 3, stride: 2, padding: 1, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // x: [B, Cin, H, W] -> [B, Cout, H/2, W/2]
    {
        using var scope = NewDisposeScope();
        var y = conv.forward(x);
        if (pixelUnshuffle) y = nn.functional.pixel_unshuffle(y, 2);
        if (shortcut)
        {
            var s = nn.functional.pixel_unshuffle(x, 2);                           // [B, 4·Cin, H/2, W/2]
            s = s.reshape(s.shape[0], -1, groupSize, s.shape[2], s.shape[3]).mean([2]); // [B, Cout, H/2, W/2]
            y = y + s;
        }
        return y.MoveToOuterDisposeScope();
    }
}
