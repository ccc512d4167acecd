using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// RMSNorm over the channel axis of a [B, C, H, W] map, with weight and bias (diffusers <c>RMSNorm(C, eps=1e-5,
/// elementwise_affine=True, bias=True)</c> applied after moving channels last; efficientvit's "trms2d").
/// Per pixel: y_c = x_c · rsqrt(mean_c(x²) + eps) · weight_c + bias_c, the mean computed in (at least) fp32.
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
        // Full-size temporaries are disposed as soon as they are used: at 128×512×512 each one is 134 MB.
        using var scope = NewDisposeScope();
        var xf = x.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? x.to_type(ScalarType.Float32) : x; // statistics in ≥ fp32
        var squares = xf.square();
        var inv = squares.mean([1], keepdim: true).add_(eps).rsqrt_();       // [B, 1, H, W] = rsqrt(mean_c(x²) + eps)
        squares.Dispose();
        var normed = (xf * inv).to_type(weight.dtype);                       // as diffusers: cast to the weight's dtype
        var y = addcmul(bias.view(1, -1, 1, 1), normed, weight.view(1, -1, 1, 1), 1); // normed·w + b
        return y.MoveToOuterDisposeScope();
    }
}
