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
        Common.Init.TruncatedNormal(grid_embed, std: 0.02, lo: -2.0, hi: 2.0, generator); // timm trunc_normal_(std=0.02)
    }

    /// <summary>The full grid [1, D, Hmax, Wmax].</summary>
    public Tensor Grid => grid_embed;
}
