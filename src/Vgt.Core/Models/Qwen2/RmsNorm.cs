using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// RMSNorm without bias (Qwen2RMSNorm, InternRMSNorm): y = weight · x / sqrt(mean(x²) + eps), statistics in fp32,
/// cast back to the input dtype before the weight multiply. State dict: `weight` [dim], init ones.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;

    public RmsNorm(long dim, double eps, Device? device = null) : base(nameof(RmsNorm))
    {
        this.eps = eps;
        weight = new Parameter(ones(dim, device: device)); // init: 1
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>x [..., dim] → [..., dim].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var xf = x.to_type(ScalarType.Float32);
        var normed = xf * rsqrt(xf.square().mean([-1L], keepdim: true) + eps);
        return (weight * normed.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}
