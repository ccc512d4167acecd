using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>
/// ConvNeXt block (torchvision CNBlock): y = x + layer_scale · block(x) with block =
/// .0 depthwise Conv 7×7 pad 3 → .1 NCHW→NHWC → .2 LayerNorm(d) → .3 Linear(d→4d) → .4 GELU (erf) →
/// .5 Linear(4d→d) → .6 NHWC→NCHW. layer_scale [d,1,1] (torchvision init 1e‑6). Stochastic depth is off
/// (eval / frozen use only).
/// </summary>
public sealed class CnBlock : nn.Module<Tensor, Tensor>
{
    private readonly Sequential block;
    private readonly Parameter layer_scale;

    public CnBlock(long dim, double eps) : base("CNBlock")
    {
        block = nn.Sequential(
            nn.Conv2d(dim, dim, 7, padding: 3, groups: dim),
            new Permute(0, 2, 3, 1),
            nn.LayerNorm(dim, eps),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            new Permute(0, 3, 1, 2));
        layer_scale = new Parameter(full(dim, 1, 1, 1e-6f));
        RegisterComponents();
    }

    /// <summary>x [B,d,H,W] → [B,d,H,W].</summary>
    public override Tensor forward(Tensor x) => x + layer_scale * block.forward(x);
}
