using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Models.QueryAr;
using Vgt.Pipelines;

namespace Vgt.Training;

/// <summary>Where the training images and captions come from (Shapes World, rendered on the fly).</summary>
public sealed record QueryArDataConfig : IValidatable
{
    /// <summary>Image side in pixels; a multiple of the AE stride × latent patch size.</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>GenEval category → weight (null = uniform).</summary>
    public IReadOnlyDictionary<string, double>? CategoryWeights { get; init; }

    /// <summary>First scene seed of the pool; the pool is the first <see cref="Scenes"/> train-split scenes from here.</summary>
    public long FirstSceneSeed { get; init; }

    /// <summary>Size of the scene pool (visited in a fresh random order every epoch).</summary>
    public int Scenes { get; init; } = 20_000;

    /// <summary>Probability that a sample's text is the scene's long caption instead of its GenEval-style prompt.</summary>
    public double CaptionProbability { get; init; }

    /// <summary>
    /// Text put before a caption used as a prompt. "a photo of " turns it into GenEval's wording: a two-object caption
    /// "a red circle and a blue square" becomes exactly a color_attr prompt. Empty = the bare caption.
    /// </summary>
    public string CaptionPrefix { get; init; } = "";

    /// <summary>
    /// Probability that a caption of a scene with exactly two objects of different shapes is worded as a relation
    /// instead ("a red circle left of a blue square", <see cref="ShapesText.RelationCaption"/>). Position prompts have
    /// no caption twin otherwise: the plain caption orders objects left to right and never says above or below.
    /// </summary>
    public double RelationCaptionProbability { get; init; }

    /// <summary>
    /// Name the two objects of an "A and B" text (two_object and color_attr prompts, two-object captions) in the order a
    /// raster scan of the token grid meets them (<see cref="ShapesText.RasterOrderedPair"/>), instead of the prompt's
    /// order or the caption's left-to-right order. In raster generation the first token of the first object then always
    /// draws the first-named object, so that token need not guess which of the two it is (a guess the flow head
    /// otherwise answers with a blend: a rounded square, or the colours swapped). Relation captions are unchanged.
    /// </summary>
    public bool RasterNameOrder { get; init; }

    /// <summary>Encode the pool once with the frozen AE and keep it in RUN/latents.safetensors (false: encode every batch).</summary>
    public bool LatentCache { get; init; } = true;

    public ShapesDatasetOptions DatasetOptions(ShapesSplit split = ShapesSplit.Train) =>
        new(split, ImageSize, CategoryWeights, FirstSceneSeed);

    public void Validate()
    {
        DatasetOptions().Validate();
        ConfigValidationException.Require(Scenes >= 1, "data.scenes", $"must be ≥ 1, got {Scenes}");
        ConfigValidationException.Require(CaptionProbability is >= 0 and <= 1, "data.caption_probability", $"must be in [0, 1], got {CaptionProbability}");
        ConfigValidationException.Require(RelationCaptionProbability is >= 0 and <= 1, "data.relation_caption_probability", $"must be in [0, 1], got {RelationCaptionProbability}");
    }
}

/// <summary>AdamW, schedule and clipping (reference §8.7; CustomAdamW decays exactly the parameters with ndim ≥ 2).</summary>
public sealed record QueryArOptimConfig : IValidatable
{
    public int Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 32;
    public double Lr { get; init; } = 3e-4;
    /// <summary>Cosine end learning rate (eta_min).</summary>
    public double EndLr { get; init; } = 1e-4;
    public int WarmupSteps { get; init; } = 50;
    /// <summary>LinearLR start factor of the warm-up (the reference's 1e-5).</summary>
    public double WarmupStartFactor { get; init; } = 1e-5;
    public double WeightDecay { get; init; } = 0.05;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Eps { get; init; } = 1e-8;
    /// <summary>Gradient clipping max-norm (the reference's 1.0); 0 = off.</summary>
    public double GradClip { get; init; } = 1.0;

    public WarmupCosineSchedule Schedule() => new(WarmupSteps, Steps, EndLr / Lr, WarmupStartFactor);

    public void Validate()
    {
        ConfigValidationException.Require(Steps >= 1, "optim.steps", $"must be ≥ 1, got {Steps}");
        ConfigValidationException.Require(BatchSize >= 1, "optim.batch_size", $"must be ≥ 1, got {BatchSize}");
        ConfigValidationException.Require(Lr > 0 && double.IsFinite(Lr), "optim.lr", $"must be finite and > 0, got {Lr}");
        ConfigValidationException.Require(EndLr >= 0 && EndLr <= Lr, "optim.end_lr", $"must be in [0, lr = {Lr}], got {EndLr}");
        ConfigValidationException.Require(WarmupSteps >= 0 && WarmupSteps < Steps, "optim.warmup_steps", $"must be in [0, steps = {Steps}), got {WarmupSteps}");
        ConfigValidationException.Require(WeightDecay >= 0, "optim.weight_decay", $"must be ≥ 0, got {WeightDecay}");
        ConfigValidationException.Require(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "optim.beta1", $"betas must be in [0, 1), got ({Beta1}, {Beta2})");
        ConfigValidationException.Require(GradClip >= 0, "optim.grad_clip", $"must be ≥ 0, got {GradClip}");
        Schedule().Validate();
    }
}

/// <summary>EMA of the weights (reference: decay 0.9998 from iteration 10,000; before that a copy of the live weights).</summary>
public sealed record QueryArEmaConfig : IValidatable
{
    public double Decay { get; init; } = 0.999;
    public long StartStep { get; init; }

    public void Validate() =>
        ConfigValidationException.Require(Decay is >= 0 and < 1, "ema.decay", $"must be in [0, 1), got {Decay}");
}

/// <summary>
/// Understanding batches mixed into VGT training so the LLM stays a unified VLM (see <see cref="QueryArUnderstanding"/>):
/// every <see cref="Every"/>-th step (step s with s mod every = every − 1) adds <see cref="LossWeight"/> × the LM loss of a
/// packed Shapes World question-answering batch, through the VLM's frozen vision tower + mlp1 (from init_from), the
/// generator's decoder and the tied LM head, to that step's generation loss. Needs init_from.
/// </summary>
public sealed record QueryArUnderstandingConfig : IValidatable
{
    /// <summary>0 = off; n = every n-th step also trains on an understanding batch.</summary>
    public int Every { get; init; }

    /// <summary>Weight of the understanding LM loss.</summary>
    public double LossWeight { get; init; } = 1.0;

    /// <summary>Scenes (images) per understanding batch.</summary>
    public int Images { get; init; } = 8;

    /// <summary>Most question–answer segments packed after each image (the caption counts as one), as in shapes-vlm training.</summary>
    public int SegmentsPerImage { get; init; } = 6;

    /// <summary>Probability that an image's segments include the caption task.</summary>
    public double CaptionFraction { get; init; } = 0.35;

    /// <summary>Scene categories of the understanding batches (GenEval tags → weights); null = uniform.</summary>
    public IReadOnlyDictionary<string, double>? CategoryWeights { get; init; }

    public void Validate()
    {
        ConfigValidationException.Require(Every >= 0, "understanding.every", $"must be ≥ 0, got {Every}");
        ConfigValidationException.Require(LossWeight > 0 && double.IsFinite(LossWeight), "understanding.loss_weight", $"must be finite and > 0, got {LossWeight}");
        ConfigValidationException.Require(Images >= 1, "understanding.images", $"must be ≥ 1, got {Images}");
        ConfigValidationException.Require(SegmentsPerImage >= 1, "understanding.segments_per_image", $"must be ≥ 1, got {SegmentsPerImage}");
        ConfigValidationException.Require(CaptionFraction is >= 0 and <= 1, "understanding.caption_fraction", $"must be in [0, 1], got {CaptionFraction}");
        new ShapesDatasetOptions(CategoryWeights: CategoryWeights).Validate();
    }
}

/// <summary>Logging, checkpoints, evaluation and the exported generator's defaults.</summary>
public sealed record QueryArRunConfig : IValidatable
{
    public int LogEvery { get; init; } = 10;
    public int CheckpointEvery { get; init; } = 200;
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Validation loss (fixed batch of validation-split scenes, fixed noise) every n steps; 0 = off.</summary>
    public int EvalEvery { get; init; } = 200;
    public int EvalBatchSize { get; init; } = 32;
    /// <summary>Torch threads (0 = leave as is).</summary>
    public int Threads { get; init; }

    public void Validate()
    {
        ConfigValidationException.Require(LogEvery >= 1, "run.log_every", $"must be ≥ 1, got {LogEvery}");
        ConfigValidationException.Require(CheckpointEvery >= 1, "run.checkpoint_every", $"must be ≥ 1, got {CheckpointEvery}");
        ConfigValidationException.Require(KeepCheckpoints >= 1, "run.keep_checkpoints", $"must be ≥ 1, got {KeepCheckpoints}");
        ConfigValidationException.Require(EvalEvery >= 0, "run.eval_every", $"must be ≥ 0, got {EvalEvery}");
        ConfigValidationException.Require(EvalBatchSize >= 1, "run.eval_batch_size", $"must be ≥ 1, got {EvalBatchSize}");
        ConfigValidationException.Require(Threads >= 0, "run.threads", $"must be ≥ 0, got {Threads}");
    }
}

/// <summary>
/// A VGT-AR training run (<c>vgt train vgt --config FILE</c>). JSON, snake_case. Paths (init_from, tokenizer, ae) are
/// model names from the catalogue (models/NAME) or directories.
/// </summary>
public sealed record QueryArTrainConfig : IValidatable
{
    public long Seed { get; init; } = 1;

    /// <summary>The generator's shape. With <see cref="InitFrom"/> its llm must equal the VLM's LLM.</summary>
    public required QueryArConfig Model { get; init; }

    /// <summary>A VLM directory (InternVL layout, e.g. shapes-vlm) whose LLM initialises the generator; null = random init.</summary>
    public string? InitFrom { get; init; }

    /// <summary>Tokenizer directory; null = <see cref="InitFrom"/>.</summary>
    public string? Tokenizer { get; init; }

    /// <summary>The frozen AE directory (its encoder makes the latents; its decoder is copied into the generator).</summary>
    public required string Ae { get; init; }

    /// <summary>Probability of replacing a caption by the CFG prompt (the reference's 0.1).</summary>
    public double CaptionDropout { get; init; } = QueryArPrompts.DefaultDropout;

    /// <summary>One generation order per batch (the reference) or per sample.</summary>
    public PermutationMode Permutation { get; init; } = PermutationMode.PerBatch;

    /// <summary>
    /// Share of orders that are raster instead of random (per batch or per sample, as <see cref="Permutation"/>; the
    /// reference's 0). A model decoded in raster order at parallel 1 sees that factorisation this often in training,
    /// and keeps the random orders that parallel decoding needs for the rest.
    /// </summary>
    public double RasterFraction { get; init; }

    public PromptTruncation Truncation { get; init; } = PromptTruncation.KeepClosing;

    /// <summary>
    /// Flow-head samples per token and step (MAR's diffusion_batch_mul; the reference's 1): each token's condition is
    /// trained against this many independent (t, ε) draws. The LLM runs once, so larger values cost only head time.
    /// </summary>
    public int HeadBatchMul { get; init; } = 1;

    /// <summary>The cell probe (<see cref="Training.CellProbe"/>): null = off.</summary>
    public QueryArCellProbeConfig? CellProbe { get; init; }

    public QueryArDataConfig Data { get; init; } = new();
    public QueryArOptimConfig Optim { get; init; } = new();
    public QueryArEmaConfig Ema { get; init; } = new();
    public QueryArUnderstandingConfig Understanding { get; init; } = new();
    public QueryArRunConfig Run { get; init; } = new();

    /// <summary>Generation defaults written into the exported generator's config.json.</summary>
    public GeneratorDefaults Generation { get; init; } = new();

    public void Validate()
    {
        Model.Validate();
        Data.Validate();
        Optim.Validate();
        Ema.Validate();
        Understanding.Validate();
        Run.Validate();
        Generation.Validate();
        CellProbe?.Validate();
        ConfigValidationException.Require(HeadBatchMul is >= 1 and <= 64, "head_batch_mul", $"must be in [1, 64], got {HeadBatchMul}");
        ConfigValidationException.Require(RasterFraction is >= 0 and <= 1, "raster_fraction", $"must be in [0, 1], got {RasterFraction}");
        ConfigValidationException.Require(CaptionDropout is >= 0 and <= 1, "caption_dropout", $"must be in [0, 1], got {CaptionDropout}");
        ConfigValidationException.Require(!string.IsNullOrWhiteSpace(Ae), "ae", "must name the frozen AE directory");
        ConfigValidationException.Require(InitFrom is not null || Tokenizer is not null, "tokenizer", "is needed when init_from is not given");
        ConfigValidationException.Require(Understanding.Every == 0 || InitFrom is not null, "understanding.every",
            $"is {Understanding.Every}, which needs init_from: the understanding batches run through the VLM's vision tower and mlp1");
        ConfigValidationException.Require(Model.RepaLossWeight == 0, "model.repa_loss_weight", "REPA needs DINOv3 features, which this trainer does not compute; set 0");
    }
}
