using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>torchvision's LayerNorm2d: LayerNorm over channels of an NCHW map (permute → layer_norm → permute back).</summary>
public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;   // [C], init 1
    private readonly Parameter bias;     // [C], init 0
    private readonly double eps;

    public LayerNorm2d(long channels, double eps) : base("LayerNorm2d")
    {
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        this.eps = eps;
        RegisterComponents();
    }

    /// <summary>x [B,C,H,W] → [B,C,H,W].</summary>
    public override Tensor forward(Tensor x) =>
        nn.functional.layer_norm(x.permute(0, 2, 3, 1), [weight.shape[0]], weight, bias, eps).permute(0, 3, 1, 2);
}
