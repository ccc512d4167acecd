using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>
/// Output layer (reference §8.3 `final_layer`): (shift, scale) = chunk₂(adaLN_modulation(y));
/// out = linear(norm_final(h)·(1+scale) + shift). Linear and modulation are zero-init ⇒ output 0 at init.
/// </summary>
public sealed class FinalLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm norm_final;       // LayerNorm(width, eps 1e-6, no affine) — no parameters
    private readonly Linear linear;              // Linear(width→out), zero-init
    private readonly Sequential adaLN_modulation; // SiLU, .1 Linear(width→2·width), zero-init

    public FinalLayer(int width, int outDim) : base("final_layer")
    {
        norm_final = nn.LayerNorm(width, eps: 1e-6, elementwise_affine: false);
        linear = nn.Linear(width, outDim);
        adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width));
        RegisterComponents();
        ParamInit.ZeroLinear(linear);
        ParamInit.ZeroLinear((Linear)adaLN_modulation[1]);
    }

    /// <summary>h [N, width], y [N, width] → [N, out].</summary>
    public override Tensor forward(Tensor h, Tensor y)
    {
        var mod = adaLN_modulation.forward(y).chunk(2, dim: -1); // 2 × [N, width]
        return linear.forward(norm_final.forward(h) * (1 + mod[1]) + mod[0]);
    }
}
