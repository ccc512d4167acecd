using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>How the condition rows of a sampler call are laid out.</summary>
public enum GuidanceLayout
{
    /// <summary>The reference rule (§9.5): cfg &gt; 1 ⇒ cond block then uncond block; cfg = 1 ⇒ cond rows only.</summary>
    Auto,
    /// <summary>All M rows are conditional; cfg is ignored.</summary>
    CondOnly,
    /// <summary>2M rows: [cond₁…cond_M, uncond₁…uncond_M]; v = v_u + cfg·(v_c − v_u), for any cfg.</summary>
    CondThenUncond,
}

/// <summary>One classifier-free-guided velocity evaluation of the net.</summary>
public static class GuidedVelocity
{
    /// <summary>Resolves <see cref="GuidanceLayout.Auto"/> and checks the row count; returns the branch count m.</summary>
    public static int Branches(GuidanceLayout layout, double cfg, long condRows)
    {
        if (!double.IsFinite(cfg)) throw new ArgumentException($"cfg must be finite, got {cfg}", nameof(cfg));
        var resolved = layout switch
        {
            GuidanceLayout.Auto when cfg > 1 => GuidanceLayout.CondThenUncond,
            GuidanceLayout.Auto when cfg == 1 => GuidanceLayout.CondOnly,
            GuidanceLayout.Auto => throw new ArgumentException(
                $"cfg = {cfg} < 1 with GuidanceLayout.Auto: pass GuidanceLayout.CondThenUncond (with uncond rows) to guide below 1", nameof(cfg)),
            _ => layout,
        };
        if (resolved == GuidanceLayout.CondOnly) return 1;
        if (condRows % 2 != 0)
            throw new ArgumentException($"CFG needs a cond block then an uncond block (2·M rows); got an odd row count {condRows}", nameof(condRows));
        return 2;
    }

    /// <summary>
    /// x [M, C] (shared by both branches), scalar t, cond [M·m, D] → v [M, C].
    /// The net sees cat(x × m) and t repeated; with m = 2, v = v_u + cfg·(v_c − v_u) (cfg = 1: v_c alone, one half the work).
    /// <paramref name="quantiseTimeToBf16"/> reproduces the reference feeding bf16 t to the net (§11.2 item 6).
    /// </summary>
    public static Tensor Evaluate(IVelocityField net, Tensor x, float t, Tensor cond, double cfg, int branches, bool quantiseTimeToBf16 = false)
    {
        if (branches == 2 && cfg == 1.0)                                        // v_u + 1·(v_c − v_u) = v_c: skip the uncond half
            return Evaluate(net, x, t, cond.narrow(0, 0, cond.shape[0] / 2), 1.0, 1, quantiseTimeToBf16);
        var xin = branches == 2 ? cat(new[] { x, x }, dim: 0) : x;              // [M·m, C]
        var tin = full(new[] { xin.shape[0] }, t, dtype: float32);             // [M·m]
        if (quantiseTimeToBf16) tin = tin.to(bfloat16).to(float32);
        var v = net.Velocity(xin, tin, cond).to(float32);                      // [M·m, C]
        if (branches == 1) return v;
        return Combine(v, cfg);
    }

    /// <summary>
    /// The CFG combination of a [cond block; uncond block] batch: rows [2M, …] → u + cfg·(c − u) [M, …]. Velocities use it,
    /// and so do the token-code logits.
    /// </summary>
    public static Tensor Combine(Tensor condThenUncond, double cfg)
    {
        var halves = condThenUncond.chunk(2, dim: 0);                           // cond, uncond
        return halves[1] + cfg * (halves[0] - halves[1]);
    }

    /// <summary>The guidance scale at flow time t: <paramref name="cfg"/> inside the interval, 1 outside.</summary>
    public static double ScaleAt(GuidanceInterval interval, double cfg, float t) => interval.IsFull || interval.Contains(t) ? cfg : 1.0;
}
