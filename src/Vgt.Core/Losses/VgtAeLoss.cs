using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// The VGT-AE loss module (reference §5.1–5.4, <c>VGTAE_ReconstructionLoss</c>). State-dict names:
/// <c>discriminator.*</c>, <c>perceptual_loss.*</c> (when it is the reference <see cref="PerceptualLoss"/>),
/// <c>ema_real_logits_mean</c>, <c>ema_fake_logits_mean</c> (when LeCam is on), <c>logvar</c> (frozen).
/// Both entry points take images in [−1,1], cast them to fp32 and map them to [0,1] via (v+1)/2; reconstructions
/// are not clamped.
/// Generator: total = rec/exp(logvar) + distill_weight·distill + perceptual_weight·perc + kl_weight·kl
///                    + d_weight·disc_factor·gan, with gan = −mean D(x̂) from <see cref="AeLossConfig.DiscriminatorStart"/> on.
/// Discriminator: disc_factor·hinge(D(x), D(x̂)) + λ·LeCam (old EMAs; EMAs updated afterwards).
/// </summary>
public sealed class VgtAeLoss : nn.Module
{
    private readonly NLayerDiscriminator discriminator;
    private readonly PerceptualLoss? perceptual_loss;
    private readonly Tensor? ema_real_logits_mean;   // [1], 0
    private readonly Tensor? ema_fake_logits_mean;   // [1], 0
    private readonly Parameter logvar;               // scalar, frozen

    private readonly Func<Tensor, Tensor, Tensor> perceptual;   // a delegate, so RegisterComponents skips it

    public AeLossConfig Config { get; }

    public NLayerDiscriminator Discriminator => discriminator;

    public VgtAeLoss(AeLossConfig config, IPerceptualLoss perceptual, Generator? generator = null) : base("loss")
    {
        config.Validate();
        Config = config;
        ArgumentNullException.ThrowIfNull(perceptual);
        this.perceptual = perceptual.Loss;
        discriminator = new NLayerDiscriminator(config.Discriminator, generator);
        perceptual_loss = perceptual as PerceptualLoss;
        if (config.LecamRegularizationWeight > 0)
        {
            ema_real_logits_mean = zeros(1);
            ema_fake_logits_mean = zeros(1);
        }
        logvar = new Parameter(tensor((float)config.LogvarInit), requires_grad: false);
        RegisterComponents();
    }

    public bool ShouldTrainDiscriminator(long globalStep) => globalStep >= Config.DiscriminatorStart;

    /// <summary>Trainable parameters of the loss module (the discriminator's), for its own optimiser.</summary>
    public IEnumerable<(string Name, Parameter Param)> DiscriminatorParameters() =>
        discriminator.named_parameters().Select(p => ("discriminator." + p.name, p.parameter));

    /// <summary>The generator (autoencoder) loss; inputs, reconstructions [B,3,H,W] in [−1,1].</summary>
    public AeLossOutput GeneratorLoss(Tensor inputs, Tensor reconstructions, AeLossExtras extras, long globalStep)
    {
        var (x, xr) = ToUnit(inputs, reconstructions);
        var c = Config;
        var rec = (c.ReconstructionLoss == ReconstructionKind.L2 ? nn.functional.mse_loss(x, xr) : nn.functional.l1_loss(x, xr))
                  * c.ReconstructionWeight;
        var outlier = c.OutlierWeight > 0 ? OutlierLoss(x, xr, c.OutlierThreshold) : zeros(1).sum();
        var edge = c.EdgeWeight > 0 ? EdgeLoss(x, xr) : zeros(1).sum();
        var perc = perceptual(x, xr).mean();
        var distill = extras.DistillLoss ?? zeros(1).sum();

        double discFactor = ShouldTrainDiscriminator(globalStep) ? c.DiscriminatorFactor : 0.0;
        var gan = zeros(1).sum();
        if (discFactor > 0 && c.DiscriminatorWeight > 0)
        {
            SetDiscriminatorTrainable(false);
            gan = GanLosses.Generator(discriminator.forward(xr));
        }
        double dWeight = c.DiscriminatorWeight;

        rec = rec / logvar.exp();
        var kl = extras.KlPerSample is { } k ? k.sum() / k.shape[0] : zeros(1).sum();

        var total = rec + c.OutlierWeight * outlier + c.EdgeWeight * edge + c.DistillWeight * distill + c.PerceptualWeight * perc + c.KlWeight * kl
                    + dWeight * discFactor * gan;
        var logs = new Dictionary<string, double>
        {
            ["total_loss"] = Item(total),
            ["distill_loss"] = Item(distill),
            ["reconstruction_loss"] = Item(rec),
            ["outlier_loss"] = c.OutlierWeight * Item(outlier),
            ["edge_loss"] = c.EdgeWeight * Item(edge),
            ["perceptual_loss"] = c.PerceptualWeight * Item(perc),
            ["kl_loss"] = c.KlWeight * Item(kl),
            ["weighted_gan_loss"] = dWeight * discFactor * Item(gan),
            ["discriminator_factor"] = discFactor,
            ["d_weight"] = dWeight,
            ["gan_loss"] = Item(gan),
        };
        return new AeLossOutput(total, logs);
    }

    /// <summary>mean(relu(|x − x̂| − δ)²) over all pixels and channels: zero for small errors, quadratic beyond δ.</summary>
    public static Tensor OutlierLoss(Tensor x, Tensor reconstruction, double threshold) =>
        (x - reconstruction).abs().sub(threshold).clamp_min(0).square().mean();

    /// <summary>
    /// mean|∂ₓx − ∂ₓx̂| + mean|∂ᵧx − ∂ᵧx̂| with ∂ the difference of horizontal (vertical) neighbours; x, x̂ [B,C,H,W].
    /// </summary>
    public static Tensor EdgeLoss(Tensor x, Tensor reconstruction)
    {
        var d = x - reconstruction;                                                    // the differences of d are ∂x − ∂x̂
        var loss = zeros(1, dtype: d.dtype, device: d.device).sum();
        if (d.shape[3] > 1) loss = loss + (d[.., .., .., 1..] - d[.., .., .., ..^1]).abs().mean();   // [B,C,H,W−1]
        if (d.shape[2] > 1) loss = loss + (d[.., .., 1.., ..] - d[.., .., ..^1, ..]).abs().mean();   // [B,C,H−1,W]
        return loss;
    }

    /// <summary>
    /// The discriminator loss on the same batch (detached inputs); the training loop calls it from
    /// <see cref="AeLossConfig.DiscriminatorStart"/> on, after the generator step. Updates the LeCam EMAs.
    /// </summary>
    public AeLossOutput DiscriminatorLoss(Tensor inputs, Tensor reconstructions, long globalStep)
    {
        var (x, xr) = ToUnit(inputs.detach(), reconstructions.detach());
        double discFactor = ShouldTrainDiscriminator(globalStep) ? Config.DiscriminatorFactor : 0.0;
        SetDiscriminatorTrainable(true);
        var logitsReal = discriminator.forward(x);    // [B,1,p,p]
        var logitsFake = discriminator.forward(xr);   // [B,1,p,p]
        var loss = discFactor * GanLosses.HingeDiscriminator(logitsReal, logitsFake);

        var lecam = zeros(1).sum();
        if (ema_real_logits_mean is not null && ema_fake_logits_mean is not null)
        {
            var realMean = logitsReal.mean();
            var fakeMean = logitsFake.mean();
            lecam = LeCam.Loss(realMean, fakeMean, ema_real_logits_mean, ema_fake_logits_mean) * Config.LecamRegularizationWeight;
            LeCam.UpdateEma(ema_real_logits_mean, realMean, Config.LecamEmaDecay);
            LeCam.UpdateEma(ema_fake_logits_mean, fakeMean, Config.LecamEmaDecay);
        }
        loss = loss + lecam;
        var logs = new Dictionary<string, double>
        {
            ["discriminator_loss"] = Item(loss),
            ["logits_real"] = Item(logitsReal.mean()),
            ["logits_fake"] = Item(logitsFake.mean()),
            ["lecam_loss"] = Item(lecam),
        };
        return new AeLossOutput(loss, logs);
    }

    /// <summary>Current LeCam EMAs (real, fake); (0, 0) when LeCam is off.</summary>
    public (double Real, double Fake) LecamEmas =>
        ema_real_logits_mean is null ? (0, 0) : (ema_real_logits_mean.item<float>(), ema_fake_logits_mean!.item<float>());

    void SetDiscriminatorTrainable(bool on)
    {
        foreach (var p in discriminator.parameters()) p.requires_grad = on;
    }

    static (Tensor X, Tensor Xr) ToUnit(Tensor inputs, Tensor reconstructions)
    {
        if (inputs.dim() != 4 || !inputs.shape.SequenceEqual(reconstructions.shape))
            throw new ArgumentException($"inputs and reconstructions must be [B,C,H,W] of one shape, got [{string.Join(",", inputs.shape)}] and [{string.Join(",", reconstructions.shape)}]");
        return ((inputs.to(float32) + 1) / 2, (reconstructions.to(float32) + 1) / 2);
    }

    static double Item(Tensor t) => t.detach().to(float64).item<double>();
}
