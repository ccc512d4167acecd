using Vgt.Config;

namespace Vgt.Losses;

/// <summary>Pixel reconstruction loss of the AE.</summary>
public enum ReconstructionKind { L2, L1 }

/// <summary>
/// Weights and schedule of the VGT-AE loss (reference §4.7 `losses`, §5.2–5.4). JSON (snake_case) field names
/// follow the reference YAML. Presets: <see cref="Stage1"/>, <see cref="Stage2"/>.
/// </summary>
public sealed record AeLossConfig : IValidatable
{
    public ReconstructionKind ReconstructionLoss { get; init; } = ReconstructionKind.L2;
    public double ReconstructionWeight { get; init; } = 1.0;

    /// <summary>
    /// Weight of the outlier term mean(relu(|x − x̂| − δ)²) on [0, 1] pixels (not in the reference; 0 = off). L2 barely
    /// notices a few isolated wrong pixels, yet one stray pixel beside a square's edge makes Shapes World's exact judge
    /// call the square a circle (its fill ratio drops below 0.92); this term charges such outliers quadratically beyond δ.
    /// </summary>
    public double OutlierWeight { get; init; }

    /// <summary>δ of the outlier term, in [0, 1] pixel units (0.05 ≈ 13 of 255 levels).</summary>
    public double OutlierThreshold { get; init; } = 0.05;

    /// <summary>
    /// Weight of the edge term mean(|∂x − ∂x̂|) over horizontal and vertical neighbour differences of [0, 1] pixels (the
    /// gradient-difference loss of Mathieu et al. 2016; not in the reference; 0 = off). L2 lets the decoder hedge on an
    /// edge it cannot place to the pixel with a soft ramp and a ring beside it; on Shapes World those halo pixels cross the
    /// judge's foreground threshold and widen a square's box. Matching the image's differences charges the ramp and the ring.
    /// </summary>
    public double EdgeWeight { get; init; }

    /// <summary>Weight of the model's distillation loss: 1.0 in stage 1, 0.1 in stage 2.</summary>
    public double DistillWeight { get; init; } = 1.0;

    /// <summary>See <see cref="PerceptualLossSpec"/>; the reference uses "lpips-convnext_s-1.0-0.1".</summary>
    public string PerceptualLoss { get; init; } = "lpips-convnext_s-1.0-0.1";
    public double PerceptualWeight { get; init; } = 1.1;

    /// <summary>First global step (0-based) with the GAN terms: 30,000 in stage 1, 10,000 in stage 2.</summary>
    public long DiscriminatorStart { get; init; } = 30_000;
    public double DiscriminatorFactor { get; init; } = 1.0;

    /// <summary>Fixed d_weight of the generator GAN term (no adaptive weight).</summary>
    public double DiscriminatorWeight { get; init; } = 0.1;

    public double LecamRegularizationWeight { get; init; } = 0.001;
    public double LecamEmaDecay { get; init; } = 0.999;
    public double KlWeight { get; init; } = 1e-6;

    /// <summary>Initial value of the frozen log-variance that divides the reconstruction loss (0 ⇒ no-op).</summary>
    public double LogvarInit { get; init; } = 0.0;

    public DiscriminatorConfig Discriminator { get; init; } = DiscriminatorConfig.Reference;

    public static AeLossConfig Stage1 => new();

    public static AeLossConfig Stage2 => new() { DistillWeight = 0.1, DiscriminatorStart = 10_000 };

    public void Validate()
    {
        static bool NonNeg(double v) => v >= 0 && double.IsFinite(v);
        ConfigValidationException.Require(NonNeg(ReconstructionWeight), "reconstruction_weight", $"must be finite and >= 0, got {ReconstructionWeight}");
        ConfigValidationException.Require(NonNeg(OutlierWeight), "outlier_weight", $"must be finite and >= 0, got {OutlierWeight}");
        ConfigValidationException.Require(OutlierThreshold is >= 0 and < 1, "outlier_threshold", $"must be in [0, 1), got {OutlierThreshold}");
        ConfigValidationException.Require(NonNeg(EdgeWeight), "edge_weight", $"must be finite and >= 0, got {EdgeWeight}");
        ConfigValidationException.Require(NonNeg(DistillWeight), "distill_weight", $"must be finite and >= 0, got {DistillWeight}");
        ConfigValidationException.Require(NonNeg(PerceptualWeight), "perceptual_weight", $"must be finite and >= 0, got {PerceptualWeight}");
        try { PerceptualLossSpec.Parse(PerceptualLoss); }
        catch (ArgumentException e) { throw new ConfigValidationException("perceptual_loss", e.Message); }
        ConfigValidationException.Require(DiscriminatorStart >= 0, "discriminator_start", $"must be >= 0, got {DiscriminatorStart}");
        ConfigValidationException.Require(NonNeg(DiscriminatorFactor), "discriminator_factor", $"must be finite and >= 0, got {DiscriminatorFactor}");
        ConfigValidationException.Require(NonNeg(DiscriminatorWeight), "discriminator_weight", $"must be finite and >= 0, got {DiscriminatorWeight}");
        ConfigValidationException.Require(NonNeg(LecamRegularizationWeight), "lecam_regularization_weight", $"must be finite and >= 0, got {LecamRegularizationWeight}");
        ConfigValidationException.Require(LecamEmaDecay is >= 0 and < 1, "lecam_ema_decay", $"must be in [0, 1), got {LecamEmaDecay}");
        ConfigValidationException.Require(NonNeg(KlWeight), "kl_weight", $"must be finite and >= 0, got {KlWeight}");
        ConfigValidationException.Require(double.IsFinite(LogvarInit), "logvar_init", $"must be finite, got {LogvarInit}");
        Discriminator.Validate();
    }
}
