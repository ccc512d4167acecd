using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.QueryAr;

/// <summary>
/// Learned 2-D position queries (reference §7.2, state-dict prefix `adaptive_metaquery.`): a max-size metaquery
/// grid and a positional grid, both centre-cropped to the latent grid h × w and flattened row-major.
/// Query token i = metaquery[i] + pos[i]; latent token i = in_proj(z_i) + pos[i].
/// </summary>
public sealed class AdaptiveMetaQuery : nn.Module
{
    private readonly Parameter max_metaquery;             // [1, D, Hmax, Wmax], N(0, 1/√D)
    private readonly Learnable2DPosEncoding pos_encoding; // grid_embed [1, D, Hmax, Wmax]

    public int Dim { get; }
    public int MaxH { get; }
    public int MaxW { get; }

    /// <summary>dim = LLM width D; the reference uses a 64 × 64 maximum grid (images up to 64·28 = 1792 px).</summary>
    public AdaptiveMetaQuery(int dim, int maxH = 64, int maxW = 64, Generator? generator = null) : base("adaptive_metaquery")
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "metaquery width D must be >= 1");
        if (maxH < 1 || maxW < 1) throw new ArgumentOutOfRangeException(nameof(maxH), $"max grid must be >= 1×1, got {maxH}×{maxW}");
        (Dim, MaxH, MaxW) = (dim, maxH, maxW);
        max_metaquery = new Parameter(empty(1, dim, maxH, maxW));
        pos_encoding = new Learnable2DPosEncoding(dim, maxH, maxW, generator);
        RegisterComponents();
        using var _ = no_grad();
        max_metaquery.normal_(0.0, 1.0 / Math.Sqrt(dim), generator);
    }

    /// <summary>
    /// Centre crop to h × w: rows [(Hmax−h)//2, +h), columns [(Wmax−w)//2, +w) → (metaquery, pos), each [1, h·w, D]
    /// in row-major order (token i·w + j = grid cell (i, j)).
    /// </summary>
    public (Tensor MetaQuery, Tensor Pos) forward(int h, int w)
    {
        if (h < 1 || h > MaxH) throw new ArgumentOutOfRangeException(nameof(h), h, $"latent grid height must be in [1, {MaxH}] (the metaquery's maximum)");
        if (w < 1 || w > MaxW) throw new ArgumentOutOfRangeException(nameof(w), w, $"latent grid width must be in [1, {MaxW}] (the metaquery's maximum)");
        var mq = CenterCrop(max_metaquery, h, w);
        var pos = CenterCrop(pos_encoding.Grid, h, w).to(mq.dtype, mq.device);
        return (mq, pos);
    }

    private static Tensor CenterCrop(Tensor grid, int h, int w)
    {
        int sh = (int)(grid.shape[2] - h) / 2, sw = (int)(grid.shape[3] - w) / 2;
        var crop = grid[.., .., sh..(sh + h), sw..(sw + w)];           // [1, D, h, w]
        return crop.permute(0, 2, 3, 1).reshape(1, h * w, grid.shape[1]); // [1, h·w, D]
    }
}
