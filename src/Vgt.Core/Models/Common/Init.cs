using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Common;

/// <summary>
/// Initialisers shared by several model families, driven by an explicit generator so a seed reproduces them
/// (TorchSharp 0.107's nn.init.normal_ / trunc_normal_ ignore the generator).
/// </summary>
public static class Init
{
    /// <summary>
    /// N(0, std²) truncated to [lo, hi] (absolute bounds, as timm's / PyTorch's trunc_normal_) by redrawing values
    /// outside. With std 0.02 and ±2 no value is ever redrawn. Meta tensors only get their (no-op) normal_.
    /// </summary>
    public static void TruncatedNormal(Tensor t, double std, double lo, double hi, Generator? generator)
    {
        using var _ = no_grad();
        t.normal_(0.0, std, generator);
        if (t.device_type == DeviceType.META) return;
        // Explicit scalars that live to the end of the method: an implicit double → Scalar temporary can be finalised
        // (and its native object freed) while lt/gt still use it, which CI hit once as a "toDouble" failure.
        using var loScalar = lo.ToScalar();
        using var hiScalar = hi.ToScalar();
        for (int round = 0; round < 100; round++)
        {
            using var scope = NewDisposeScope();
            var outside = t.lt(loScalar).logical_or(t.gt(hiScalar));
            if (!outside.any().item<bool>()) return;
            t.copy_(where(outside, empty_like(t).normal_(0.0, std, generator), t));
        }
        t.clamp_(lo, hi); // unreachable in practice (bounds far in the tails)
    }
}
