using TorchSharp.Modules;
using Vgt.Config;

namespace Vgt.Training;

/// <summary>
/// Linear warm-up then cosine decay, as a multiplier of each parameter group's peak learning rate
/// (so a group at 0.5× the base LR also ends at 0.5× the end LR, as in the reference AE trainer).
/// <list type="bullet">
/// <item>AE (TiTok-style LambdaLR): warm-up factor s/W from 0 → <see cref="WarmupStartFactor"/> = 0.</item>
/// <item>AR (mmengine LinearLR + CosineAnnealingLR): factor 1e-5 → 1 over W steps → <see cref="WarmupStartFactor"/> = 1e-5.</item>
/// </list>
/// m(s) = f₀ + (1−f₀)·s/W for s &lt; W; afterwards e + (1 − e)·(1 + cos(π·(s−W)/(T−W)))/2 with e = <see cref="EndFactor"/> = end_lr / peak_lr.
/// </summary>
public sealed record WarmupCosineSchedule(int WarmupSteps, int TotalSteps, double EndFactor, double WarmupStartFactor = 0.0) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(WarmupSteps >= 0, "warmup_steps", $"must be ≥ 0, got {WarmupSteps}");
        ConfigValidationException.Require(TotalSteps > WarmupSteps, "total_steps", $"must exceed warmup_steps ({WarmupSteps}), got {TotalSteps}");
        ConfigValidationException.Require(EndFactor is >= 0 and <= 1, "end_factor", $"must be in [0, 1], got {EndFactor}");
        ConfigValidationException.Require(WarmupStartFactor is >= 0 and <= 1, "warmup_start_factor", $"must be in [0, 1], got {WarmupStartFactor}");
    }

    /// <summary>Multiplier of the peak LR at optimiser step <paramref name="step"/> (0-based).</summary>
    public double Multiplier(long step)
    {
        if (step < WarmupSteps)
            return WarmupStartFactor + (1 - WarmupStartFactor) * step / WarmupSteps;
        double p = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        return EndFactor + (1 - EndFactor) * 0.5 * (1 + Math.Cos(Math.PI * p));
    }

    /// <summary>Sets every group's LR to its initial (peak) LR × the multiplier for <paramref name="step"/>.</summary>
    public void Apply(OptimizerHelper optimizer, long step)
    {
        double m = Multiplier(step);
        foreach (var g in optimizer.ParamGroups) g.LearningRate = g.InitialLearningRate * m;
    }
}
