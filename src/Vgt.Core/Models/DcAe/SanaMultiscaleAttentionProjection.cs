using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// One multiscale branch of the Sana attention (diffusers <c>SanaMultiscaleAttentionProjection</c>, key
/// <c>to_qkv_multiscale.{k}</c>): a depthwise k×k conv on the 3I stacked q|k|v channels, then a grouped 1×1 conv whose
/// 3·heads groups each map head_dim channels to head_dim channels.
/// </summary>
public sealed class SanaMultiscaleAttentionProjection : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d proj_in;  // weight [3I, 1, k, k], no bias (groups 3I, padding k/2)
    public readonly Conv2d proj_out; // weight [3I, head_dim, 1, 1], no bias (groups 3·heads)

    public SanaMultiscaleAttentionProjection(long innerDim, long heads, long kernelSize, Device? device = null)
        : base(nameof(SanaMultiscaleAttentionProjection))
    {
        if (kernelSize <= 0 || kernelSize % 2 == 0)
            throw new ArgumentException($"Multiscale kernel size must be odd and positive, got {kernelSize}.");
        long c = 3 * innerDim;
        proj_in = nn.Conv2d(c, c, kernelSize, padding: kernelSize / 2, groups: c, bias: false, device: device);
        proj_out = nn.Conv2d(c, c, 1, groups: 3 * heads, bias: false, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor qkv) // qkv: [B, 3I, H, W] -> [B, 3I, H, W]
    {
        using var scope = NewDisposeScope();
        return proj_out.forward(proj_in.forward(qkv)).MoveToOuterDisposeScope();
    }
}
