using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.QueryAr;

/// <summary>Learned 2-D positional grid (reference §7.2 `pos_encoding`): grid_embed [1, D, Hmax, Wmax].</summary>
public sealed class Learnable2DPosEncoding : nn.Module
{
    private readonly Parameter grid_embed; // [1, D, Hmax, Wmax], trunc_normal(std 0.02, bounds ±2 absolute)

    public Learnable2DPosEncoding(int dim, int maxH, int maxW, Generator? generator = null) : base("pos_encoding")
    {
        grid_embed = new Parameter(empty(1, dim, maxH, maxW));
        RegisterComponents();
        TruncatedNormal(grid_embed, std: 0.02, lo: -2.0, hi: 2.0, generator);
    }

    /// <summary>
    /// N(0, std²) truncated to [lo, hi] (absolute bounds, as timm's trunc_normal_) by redrawing values outside.
    /// (TorchSharp's nn.init.trunc_normal_ ignores the generator.) With std 0.02 and ±2 no value is ever redrawn.
    /// </summary>
    private static void TruncatedNormal(Tensor t, double std, double lo, double hi, Generator? generator)
    {
        using var _ = no_grad();
        t.normal_(0.0, std, generator);
        for (int round = 0; round < 100; round++)
        {
            using var scope = NewDisposeScope();
            var outside = t.lt(lo).logical_or(t.gt(hi));
            if (!outside.any().item<bool>()) return;
            t.copy_(where(outside, empty_like(t).normal_(0.0, std, generator), t));
        }
        t.clamp_(lo, hi); // unreachable in practice (bounds far in the tails)
    }

    /// <summary>The full grid [1, D, Hmax, Wmax].</summary>
    public Tensor Grid => grid_embed;
}
