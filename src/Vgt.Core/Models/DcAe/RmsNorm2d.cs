using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// RMSNorm over the channel axis of a [B, C, H, W] map, with weight and bias (diffusers <c>RMSNorm(C, eps=1e-5,
/// elementwise_affine=True, bias=True)</c> applied after moving channels last; efficientvit's "trms2d").
/// Per pixel: y_c = x_c · rsqrt(mean_c(x²) + eps) · weight_c + bias_c, the mean computed in fp32.
/// </summary>
public sealed class RmsNorm2d : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight; // [C], init 1
    public readonly Parameter bias;   // [C], init 0
    readonly double eps;

    public RmsNorm2d(long channels, double eps = 1e-5, Device? device = null) : base(nameof(RmsNorm2d))
    {
        this.eps = eps;
        weight = new Parameter(ones(channels, device: device));
        bias = new Parameter(zeros(channels, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // x: [B, C, H, W] -> [B, C, H, W]
    {
        using var scope = NewDisposeScope();
        var xf = x.to_type(ScalarType.Float32);
        var variance = xf.pow(2).mean([1], keepdim: true);                  // [B, 1, H, W]
        var y = (xf * rsqrt(variance + eps)).to_type(weight.dtype);        // as diffusers: cast to the weight's dtype
        y = y * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1);
        return y.MoveToOuterDisposeScope();
    }
}
