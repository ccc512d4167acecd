using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>
/// adaLN-zero residual MLP block (reference §8.3 `res_blocks.{k}`):
/// (shift, scale, gate) = chunk₃(adaLN_modulation(y)); h ← h + gate ⊙ mlp(in_ln(h)·(1+scale) + shift).
/// </summary>
public sealed class AdaLnResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm in_ln;            // LayerNorm(width, eps 1e-6, affine), weight 1, bias 0
    private readonly Sequential mlp;             // mlp.0 Linear(width→hidden), SiLU, mlp.2 Linear(hidden→width)
    private readonly Sequential adaLN_modulation; // SiLU, .1 Linear(width→3·width), zero-init

    public AdaLnResBlock(int width, int hidden, Generator? generator = null) : base("res_block")
    {
        in_ln = nn.LayerNorm(width, eps: 1e-6);
        mlp = nn.Sequential(nn.Linear(width, hidden), nn.SiLU(), nn.Linear(hidden, width));
        adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 3 * width));
        RegisterComponents();
        // Init: xavier_uniform for the MLP, zeros for the modulation (⇒ gate = 0: the block starts as identity).
        ParamInit.XavierLinear((Linear)mlp[0], generator);
        ParamInit.XavierLinear((Linear)mlp[2], generator);
        ParamInit.ZeroLinear((Linear)adaLN_modulation[1]);
    }

    /// <summary>h [N, width], y [N, width] (time + condition embedding) → [N, width].</summary>
    public override Tensor forward(Tensor h, Tensor y)
    {
        var mod = adaLN_modulation.forward(y).chunk(3, dim: -1); // 3 × [N, width]
        var (shift, scale, gate) = (mod[0], mod[1], mod[2]);
        return h + gate * mlp.forward(in_ln.forward(h) * (1 + scale) + shift);
    }
}
