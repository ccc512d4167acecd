using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// DC-AE ×2 up-sampling block (diffusers <c>DCUpBlock2d</c>, key <c>up_blocks.{i}.0.conv</c>).
/// Main path, "interpolate": nearest ×2 then conv 3×3 Cin→Cout; "pixel_shuffle": conv 3×3 Cin→4·Cout then pixel_shuffle(2).
/// Duplicating shortcut (when enabled): pixel_shuffle(repeat_interleave(x, r = 4·Cout/Cin, dim 1), 2), added to the main path.
/// </summary>
public sealed class UpBlock : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv; // interpolate: weight [Cout, Cin, 3, 3]; pixel_shuffle: [4·Cout, Cin, 3, 3]; bias likewise

    readonly bool interpolate;
    readonly bool shortcut;
    readonly long repeats;

    public UpBlock(long inChannels, long outChannels, bool interpolate, bool shortcut = true, Device? device = null) : base(nameof(UpBlock))
    {
        if (shortcut && 4 * outChannels % inChannels != 0)
            throw new ArgumentException($"Up block {inChannels}→{outChannels}: the duplicating shortcut needs 4·out divisible by in.");
        this.interpolate = interpolate;
        this.shortcut = shortcut;
        repeats = 4 * outChannels / inChannels;
        conv = nn.Conv2d(inChannels, interpolate ? outChannels : 4 * outChannels, 3, padding: 1, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // x: [B, Cin, H, W] -> [B, Cout, 2H, 2W]
    {
        using var scope = NewDisposeScope();
        Tensor y;
        if (interpolate)
        {
            var up = nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest); // [B, Cin, 2H, 2W]
            y = conv.forward(up);
            up.Dispose();
        }
        else
        {
            var c = conv.forward(x);                                   // [B, 4·Cout, H, W]
            y = nn.functional.pixel_shuffle(c, 2);
            c.Dispose();
        }
        if (shortcut)
        {
            var dup = x.repeat_interleave(repeats, dim: 1);            // [B, 4·Cout, H, W]: channel k = x channel ⌊k / r⌋
            var s = nn.functional.pixel_shuffle(dup, 2);               // [B, Cout, 2H, 2W]
            dup.Dispose();
            y.add_(s);
        }
        return y.MoveToOuterDisposeScope();
    }
}
