using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// GLUMBConv (diffusers <c>GLUMBConv(C, C, expand_ratio=4, norm_type="rms_norm")</c>, key prefix <c>conv_out.</c> inside an
/// EfficientViT block): 1×1 C→8C + SiLU, depthwise 3×3 on 8C, split [x | gate], x·SiLU(gate), 1×1 4C→C (no bias),
/// RMSNorm (weight + bias), plus the residual.
/// </summary>
public sealed class GluMbConv : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv_inverted; // weight [8C, C, 1, 1], bias [8C]
    public readonly Conv2d conv_depth;    // weight [8C, 1, 3, 3], bias [8C] (groups 8C)
    public readonly Conv2d conv_point;    // weight [C, 4C, 1, 1], no bias
    public readonly RmsNorm2d norm;       // weight [C] = 1, bias [C] = 0

    public GluMbConv(long channels, Device? device = null) : base(nameof(GluMbConv))
    {
        long hidden = 4 * channels;
        conv_inverted = nn.Conv2d(channels, 2 * hidden, 1, device: device);
        conv_depth = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding: 1, groups: 2 * hidden, device: device);
        conv_point = nn.Conv2d(hidden, channels, 1, bias: false, device: device);
        norm = new RmsNorm2d(channels, 1e-5, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // x: [B, C, H, W] -> [B, C, H, W]
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(conv_inverted.forward(x));   // [B, 8C, H, W]
        h = conv_depth.forward(h);                               // [B, 8C, H, W]
        var halves = h.chunk(2, dim: 1);                         // 2 × [B, 4C, H, W]
        h = halves[0] * nn.functional.silu(halves[1]);           // [B, 4C, H, W]
        h = norm.forward(conv_point.forward(h));                 // [B, C, H, W]
        return (h + x).MoveToOuterDisposeScope();
    }
}
