using Vgt.Config;
using Vgt.Models.InternVl;

namespace Vgt.Training;

/// <summary>
/// Everything `vgt train vlm` needs (configs/shapes-vlm.json). <see cref="Model"/>'s llm.vocab_size is the BPE
/// trainer's target; the model gets the learned tokenizer's actual size (Shapes World text runs out of merges earlier).
/// </summary>
public sealed record VlmTrainConfig(
    long Seed,
    InternVlConfig Model,
    VlmDataConfig Data,
    VlmOptimConfig Optim,
    VlmRunConfig Run,
    VlmVisionWarmupConfig? VisionWarmup = null,
    VlmLayoutProbeConfig? LayoutProbe = null) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(Model is not null, "model", "is required");
        ConfigValidationException.Require(Data is not null, "data", "is required");
        ConfigValidationException.Require(Optim is not null, "optim", "is required");
        ConfigValidationException.Require(Run is not null, "run", "is required");
        Model!.Validate();
        Data!.Validate();
        Optim!.Validate();
        Run!.Validate();
        VisionWarmup?.Validate();
        if (LayoutProbe is { } probe)
        {
            probe.Validate();
            int layers = Model.Llm.NumHiddenLayers;
            ConfigValidationException.Require(probe.PositionLayer <= layers, "layout_probe.position_layer",
                $"must be at most model.llm.num_hidden_layers ({layers}), got {probe.PositionLayer}");
            ConfigValidationException.Require(probe.RelationLayer <= layers, "layout_probe.relation_layer",
                $"must be at most model.llm.num_hidden_layers ({layers}), got {probe.RelationLayer}");
            ConfigValidationException.Require(probe.GroupLayer is null || probe.GroupLayer <= layers, "layout_probe.group_layer",
                $"must be at most model.llm.num_hidden_layers ({layers}), got {probe.GroupLayer}");
        }
        ConfigValidationException.Require(Model.Template == "vgt" || Model.Template == "internvl2_5", "model.template",
            $"must be \"vgt\" or \"internvl2_5\", got \"{Model.Template}\"");
    }
}

/// <param name="TokenizerScenes">Train-split scenes whose text teaches the BPE vocabulary.</param>
/// <param name="CaptionFraction">Probability that an image's segments include the caption task.</param>
/// <param name="SegmentsPerImage">Most question–answer segments packed after one image (the caption counts as one);
/// the image and the prompt prefix are computed once for all of them.</param>
/// <param name="CategoryWeights">Scene categories (GenEval tags → weights); null = uniform.</param>
public sealed record VlmDataConfig(
    int TokenizerScenes = 4000,
    double CaptionFraction = 0.35,
    int SegmentsPerImage = 6,
    IReadOnlyDictionary<string, double>? CategoryWeights = null) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(TokenizerScenes >= 1, "data.tokenizer_scenes", $"must be >= 1, got {TokenizerScenes}");
        ConfigValidationException.Require(CaptionFraction is >= 0 and <= 1, "data.caption_fraction", $"must be in [0, 1], got {CaptionFraction}");
        ConfigValidationException.Require(SegmentsPerImage >= 1, "data.segments_per_image", $"must be >= 1, got {SegmentsPerImage}");
        new Data.ShapesWorld.ShapesDatasetOptions(CategoryWeights: CategoryWeights).Validate();
    }
}

/// <summary>
/// AdamW with linear warm-up and cosine decay to <see cref="EndFactor"/> × <see cref="Lr"/>; <see cref="BatchSize"/> counts
/// images. The vision tower and mlp1 learn at <see cref="VisionLrMultiplier"/> × the LLM's rate.
/// </summary>
public sealed record VlmOptimConfig(
    int Steps,
    int BatchSize,
    double Lr,
    int WarmupSteps,
    double EndFactor = 0.05,
    double WeightDecay = 0.05,
    double Beta1 = 0.9,
    double Beta2 = 0.98,
    double GradClip = 1.0,
    double VisionLrMultiplier = 1.0) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(Steps >= 1, "optim.steps", $"must be >= 1, got {Steps}");
        ConfigValidationException.Require(BatchSize >= 1, "optim.batch_size", $"must be >= 1, got {BatchSize}");
        ConfigValidationException.Require(Lr > 0 && double.IsFinite(Lr), "optim.lr", $"must be > 0, got {Lr}");
        ConfigValidationException.Require(WarmupSteps >= 0 && WarmupSteps < Steps, "optim.warmup_steps", $"must be in [0, steps), got {WarmupSteps}");
        ConfigValidationException.Require(EndFactor is >= 0 and <= 1, "optim.end_factor", $"must be in [0, 1], got {EndFactor}");
        ConfigValidationException.Require(WeightDecay >= 0, "optim.weight_decay", $"must be >= 0, got {WeightDecay}");
        ConfigValidationException.Require(Beta1 is >= 0 and < 1, "optim.beta1", $"must be in [0, 1), got {Beta1}");
        ConfigValidationException.Require(Beta2 is >= 0 and < 1, "optim.beta2", $"must be in [0, 1), got {Beta2}");
        ConfigValidationException.Require(VisionLrMultiplier >= 0, "optim.vision_lr_multiplier", $"must be >= 0, got {VisionLrMultiplier}");
        ConfigValidationException.Require(GradClip >= 0, "optim.grad_clip", $"must be >= 0 (0 = off), got {GradClip}");
    }
}

/// <param name="CheckpointEvery">Steps between resumable checkpoints (one is always written at the end).</param>
/// <param name="LogEvery">Steps between metrics lines.</param>
/// <param name="KeepCheckpoints">How many step folders to keep.</param>
public sealed record VlmRunConfig(int CheckpointEvery = 100, int LogEvery = 10, int KeepCheckpoints = 2) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(CheckpointEvery >= 1, "run.checkpoint_every", $"must be >= 1, got {CheckpointEvery}");
        ConfigValidationException.Require(LogEvery >= 1, "run.log_every", $"must be >= 1, got {LogEvery}");
        ConfigValidationException.Require(KeepCheckpoints >= 1, "run.keep_checkpoints", $"must be >= 1, got {KeepCheckpoints}");
    }
}
