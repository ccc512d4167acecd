using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>
/// Deterministic probability-flow sampler (not in the reference): Euler steps of dx/dt = v on the uniform fp32
/// grid t_i = linspace(0, 1, steps + 1), i = 0 … steps − 1 (steps network calls). Only x₀ is random.
/// </summary>
public sealed class EulerOdeSampler : IFlowSampler
{
    /// <summary>Sampling temperature τ: x₀ ~ τ·N(0, I) (1 = the model's own distribution; below 1 sharper).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Flow times that get guidance (<see cref="GuidanceInterval.Full"/> = always).</summary>
    public GuidanceInterval Interval { get; init; } = GuidanceInterval.Full;

    public Tensor Sample(IVelocityField net, Tensor cond, double cfg, int steps, INoiseSource noise, GuidanceLayout layout = GuidanceLayout.Auto)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "the ODE sampler needs steps >= 1");
        SamplerTemperature.Check(Temperature);
        Interval.Validate();
        float[] ts;
        using (var grid = linspace(0.0, 1.0, steps + 1, dtype: float32)) ts = grid.data<float>().ToArray();
        int m = GuidedVelocity.Branches(layout, cfg, cond.shape[0]);
        var shape = new[] { cond.shape[0] / m, (long)net.InputDim };
        using var _ = no_grad();
        var x = SamplerTemperature.Scale(noise.Next(shape), Temperature); // x₀ [M, C]
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var v = GuidedVelocity.Evaluate(net, x, ts[i], cond, GuidedVelocity.ScaleAt(Interval, cfg, ts[i]), m);
            x = SamplerSteps.Euler(x, v, ts[i + 1] - ts[i]).MoveToOuterDisposeScope();
        }
        return x;
    }
}
