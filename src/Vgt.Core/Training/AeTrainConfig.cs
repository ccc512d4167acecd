using Vgt.Config;
using Vgt.Losses;
using Vgt.Models.VgtAe;

namespace Vgt.Training;

/// <summary>Optimisation of the AE (reference §4.7, §5.6–5.8): AdamW groups, warm-up + cosine, gradient clipping.</summary>
public sealed record AeOptimizerConfig : IValidatable
{
    public double LearningRate { get; init; } = 1e-4;
    public double DiscriminatorLearningRate { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>LR multiplier of the parameters named `encoder.*` (the VLM tower in the reference: 0.5).</summary>
    public double EncoderLrMultiplier { get; init; } = 0.5;
    public double MaxGradNorm { get; init; } = 1.0;
    public int WarmupSteps { get; init; } = 3000;
    public double EndLearningRate { get; init; } = 1e-5;

    public void Validate()
    {
        ConfigValidationException.Require(LearningRate > 0, "optimizer.learning_rate", "must be > 0");
        ConfigValidationException.Require(DiscriminatorLearningRate > 0, "optimizer.discriminator_learning_rate", "must be > 0");
        ConfigValidationException.Require(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "optimizer.beta1", "betas must be in [0, 1)");
        ConfigValidationException.Require(WeightDecay >= 0, "optimizer.weight_decay", "must be >= 0");
        ConfigValidationException.Require(EncoderLrMultiplier > 0, "optimizer.encoder_lr_multiplier", "must be > 0");
        ConfigValidationException.Require(MaxGradNorm > 0, "optimizer.max_grad_norm", "must be > 0");
        ConfigValidationException.Require(WarmupSteps >= 0, "optimizer.warmup_steps", "must be >= 0");
        ConfigValidationException.Require(EndLearningRate >= 0 && EndLearningRate <= LearningRate, "optimizer.end_learning_rate",
            $"must be in [0, learning_rate], got {EndLearningRate}");
    }
}

/// <summary>Shapes World training data (the train split, rendered on the fly) and the validation images.</summary>
public sealed record AeDataConfig : IValidatable
{
    public int ImageSize { get; init; } = 64;
    public int BatchSize { get; init; } = 16;
    public long FirstSceneSeed { get; init; }
    public IReadOnlyDictionary<string, double>? CategoryWeights { get; init; }

    /// <summary>Validation images (validation split) for the in-training PSNR.</summary>
    public int ValidationImages { get; init; } = 64;

    /// <summary>
    /// Encode tile-jittered copies of the images and train the reconstruction of the clean (or aligned) ones (null = off).
    /// Meant for <c>train_decoder_only</c>: a decoder that lines up the parts a token-by-token generator draws.
    /// </summary>
    public Data.Augmentation.TileJitter? TileJitter { get; init; }

    public void Validate()
    {
        TileJitter?.Validate();
        if (TileJitter is { } j)
            ConfigValidationException.Require(ImageSize % j.Tile == 0, "data.tile_jitter.tile", $"must divide data.image_size ({ImageSize}), got {j.Tile}");
        ConfigValidationException.Require(ImageSize >= 16, "data.image_size", $"must be >= 16, got {ImageSize}");
        ConfigValidationException.Require(BatchSize >= 1, "data.batch_size", $"must be >= 1, got {BatchSize}");
        ConfigValidationException.Require(ValidationImages >= 0, "data.validation_images", "must be >= 0");
    }
}

/// <summary>
/// One AE training stage (`vgt train ae --config FILE`). The model comes from <see cref="Model"/>; for a VLM encoder
/// the vision tower and projector are taken from <see cref="Vlm"/> (which fills model.vision), then optionally the
/// weights of <see cref="InitFrom"/> (an AE model directory, e.g. stage 1 for stage 2) and of <see cref="DecoderInit"/>
/// (a diffusers DC-AE safetensors).
/// </summary>
public sealed record AeTrainConfig : IValidatable
{
    public string Name { get; init; } = "ae";
    public long Seed { get; init; } = 42;
    public VgtAeConfig Model { get; init; } = new();

    /// <summary>VLM model directory or name (InternVL chat layout) whose vision tower + mlp1 become the encoder and teacher.</summary>
    public string? Vlm { get; init; }

    /// <summary>An AE model directory to start from (its config must match <see cref="Model"/> in every shape).</summary>
    public string? InitFrom { get; init; }

    /// <summary>A diffusers AutoencoderDC checkpoint to initialise the decoder from.</summary>
    public string? DecoderInit { get; init; }

    /// <summary>
    /// Train the pixel decoder only (everything outside <c>decoder.*</c> frozen, requires_grad off). With
    /// <see cref="InitFrom"/> this sharpens a finished AE's decoder while its latents stay bit-identical, so a generator
    /// already trained on those latents stays valid.
    /// </summary>
    public bool TrainDecoderOnly { get; init; }

    /// <summary>Which tensors of <see cref="InitFrom"/> to take; see <see cref="AeInitParts"/>.</summary>
    public AeInitParts InitParts { get; init; } = AeInitParts.All;

    public AeLossConfig Loss { get; init; } = AeLossConfig.Stage2;
    public AeOptimizerConfig Optimizer { get; init; } = new();
    public AeDataConfig Data { get; init; } = new();
    public int MaxSteps { get; init; } = 1000;
    public int LogEvery { get; init; } = 10;
    public int SaveEvery { get; init; } = 200;
    public int EvalEvery { get; init; } = 200;

    /// <summary>Training run folder (checkpoints/, metrics.jsonl); relative paths are relative to the working directory.</summary>
    public string OutputDir { get; init; } = "runs/ae";

    /// <summary>Where the final model directory is written (config.json + model.safetensors); null = OutputDir/final.</summary>
    public string? ExportDir { get; init; }

    /// <summary>Weight files for the reference perceptual loss (LPIPS: torchvision vgg16 + taming vgg.pth; ConvNeXt-S).</summary>
    public string? LpipsVgg16 { get; init; }
    public string? LpipsLin { get; init; }
    public string? ConvnextWeights { get; init; }

    public void Validate()
    {
        ConfigValidationException.Require(!string.IsNullOrWhiteSpace(Name), "name", "is required");
        ConfigValidationException.Require(Model is not null, "model", "is required");
        if (Model!.Encoder == AeEncoderKind.Vlm)
            ConfigValidationException.Require(Vlm is not null || Model.Vision is not null, "vlm", "a VLM encoder needs vlm (a VLM model directory) or model.vision");
        else
        {
            Model.Validate();
            ConfigValidationException.Require(Vlm is null, "vlm", "a conv encoder uses no VLM");
        }
        Loss.Validate();
        Optimizer.Validate();
        Data.Validate();
        ConfigValidationException.Require(MaxSteps >= 1, "max_steps", "must be >= 1");
        ConfigValidationException.Require(Optimizer.WarmupSteps < MaxSteps, "optimizer.warmup_steps", $"must be below max_steps ({MaxSteps})");
        ConfigValidationException.Require(LogEvery >= 1 && SaveEvery >= 1 && EvalEvery >= 1, "log_every", "log_every, save_every and eval_every must be >= 1");
        ConfigValidationException.Require(Data.ImageSize == Model.ImageSize, "data.image_size", $"must equal model.image_size ({Model.ImageSize})");
        var spec = PerceptualLossSpec.Parse(Loss.PerceptualLoss);
        if (Loss.PerceptualWeight > 0 && spec.Teacher)
            ConfigValidationException.Require(Model.Encoder == AeEncoderKind.Vlm && Model.Teacher, "loss.perceptual_loss",
                "\"teacher\" needs a VLM encoder with teacher: true");
        if (Loss.PerceptualWeight > 0 && spec.Lpips)
            ConfigValidationException.Require(LpipsVgg16 is not null && LpipsLin is not null, "lpips_vgg16", "LPIPS needs lpips_vgg16 and lpips_lin weight files");
        if (Loss.PerceptualWeight > 0 && spec.ConvNext)
            ConfigValidationException.Require(ConvnextWeights is not null, "convnext_weights", "the ConvNeXt term needs convnext_weights");
        if (TrainDecoderOnly)
        {
            ConfigValidationException.Require(InitFrom is not null, "train_decoder_only", "needs init_from (the AE whose encoder stays frozen)");
            ConfigValidationException.Require(Loss.DistillWeight == 0, "loss.distill_weight", "must be 0 with train_decoder_only (the encoder is frozen)");
        }
        if (InitParts != AeInitParts.All)
            ConfigValidationException.Require(InitFrom is not null, "init_parts", $"{InitParts} needs init_from (the AE whose weights are taken)");
        if (Loss.DistillWeight > 0 && Model.Encoder == AeEncoderKind.Vlm)
            ConfigValidationException.Require(Model.Teacher, "model.teacher", "distill_weight > 0 needs the teacher");
    }
}
