using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>
/// The reference head sampler (§9.5). With num_steps = n: timesteps = linspace(0, 1 − last, n) in fp32;
/// n − 1 Euler–Maruyama steps (<see cref="SamplerSteps.EulerMaruyama"/>) with fresh noise ξ [M, C] each, then one
/// deterministic Euler step of size <see cref="LastStepSize"/> at t = 1 − last. n network calls in total.
/// x₀ [M, C] is drawn once and shared by the cond and uncond branches.
/// </summary>
public sealed class EulerMaruyamaSampler : IFlowSampler
{
    /// <summary>Size of the final deterministic step (0.04 in the reference).</summary>
    public double LastStepSize { get; init; } = 0.04;

    /// <summary>Feed the net t rounded to bf16 (the reference's quirk: 0.96 → 0.9609375). Default off = fp32 t.</summary>
    public bool QuantiseTimeToBf16 { get; init; }

    /// <summary>
    /// Sampling temperature τ (not in the reference, which accepts and ignores one): x₀ and every step's ξ are drawn
    /// as τ·N(0, I), as MAR's diffusion head does. τ = 1 is the reference sampler; τ &lt; 1 sharpens the per-token
    /// distribution toward its modes.
    /// </summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Flow times that get guidance (<see cref="GuidanceInterval.Full"/> = the reference).</summary>
    public GuidanceInterval Interval { get; init; } = GuidanceInterval.Full;

    /// <summary>The fp32 time grid linspace(0, 1 − last, steps).</summary>
    public float[] Timesteps(int steps)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "the SDE sampler needs steps >= 2 (steps − 1 stochastic steps plus the final Euler step)");
        if (!(LastStepSize > 0 && LastStepSize < 1)) throw new ArgumentOutOfRangeException(nameof(LastStepSize), LastStepSize, "last_step_size must be in (0, 1)");
        using var grid = linspace(0.0, 1.0 - LastStepSize, steps, dtype: float32);
        return grid.data<float>().ToArray();
    }

    public Tensor Sample(IVelocityField net, Tensor cond, double cfg, int steps, INoiseSource noise, GuidanceLayout layout = GuidanceLayout.Auto)
    {
        var ts = Timesteps(steps);
        SamplerTemperature.Check(Temperature);
        Interval.Validate();
        int m = GuidedVelocity.Branches(layout, cfg, cond.shape[0]);
        long rows = cond.shape[0] / m;
        var shape = new[] { rows, (long)net.InputDim };
        using var _ = no_grad();
        var x = SamplerTemperature.Scale(noise.Next(shape), Temperature); // x₀ [M, C]
        for (int i = 0; i < steps - 1; i++)
        {
            using var scope = NewDisposeScope();
            float t = ts[i], dt = ts[i + 1] - ts[i];
            var v = GuidedVelocity.Evaluate(net, x, t, cond, GuidedVelocity.ScaleAt(Interval, cfg, t), m, QuantiseTimeToBf16);
            x = SamplerSteps.EulerMaruyama(x, v, t, dt, SamplerTemperature.Scale(noise.Next(shape), Temperature)).MoveToOuterDisposeScope();
        }
        var vLast = GuidedVelocity.Evaluate(net, x, ts[^1], cond, GuidedVelocity.ScaleAt(Interval, cfg, ts[^1]), m, QuantiseTimeToBf16);
        return SamplerSteps.Euler(x, vLast, (float)LastStepSize);     // [M, C] fp32
    }
}
