using System.Text.Json.Serialization;
using Vgt.Config;
using Vgt.Models.InternVit;
using Vgt.Models.Qwen2;

namespace Vgt.Models.InternVl;

/// <summary>Pixel-shuffle variant (HF `ps_version`): v2 restores (row, col) order with a final permute; v1 leaves the grid transposed.</summary>
public enum PixelShuffleVersion
{
    V1,
    V2,
}

/// <summary>The mlp1 projector: LayerNorm(D_vit·s²) → Linear → GELU → Linear (dimensions follow from the towers).</summary>
public sealed record VisionProjectorConfig(double LayerNormEps = 1e-5) : IValidatable
{
    public void Validate() =>
        ConfigValidationException.Require(LayerNormEps > 0, "projector.layer_norm_eps", "must be > 0");
}

/// <summary>InternVL chat model: vision tower, LLM, and the pixel-shuffle + mlp1 glue between them.</summary>
public sealed record InternVlConfig(
    InternVitConfig Vision,
    Qwen2Config Llm,
    double DownsampleRatio,
    VisionProjectorConfig Projector,
    int SelectLayer,
    PixelShuffleVersion PsVersion,
    int ImageSize,
    string? Template = null) : IValidatable
{
    /// <summary>Pixel-shuffle factor k = 1 / downsample_ratio (2 for InternVL3).</summary>
    [JsonIgnore] public int ShuffleFactor => (int)Math.Round(1.0 / DownsampleRatio);

    /// <summary>mlp1 input width: D_vit · k².</summary>
    [JsonIgnore] public int ProjectorInputSize => Vision.HiddenSize * ShuffleFactor * ShuffleFactor;

    /// <summary>Vision layers to run for select_layer (−1 = all; HF hidden_states index).</summary>
    [JsonIgnore] public int VisionLayersToRun => SelectLayer < 0 ? Vision.NumHiddenLayers + 1 + SelectLayer : SelectLayer;

    /// <summary>Image tokens per image_size tile: (image_size / patch / k)².</summary>
    [JsonIgnore] public int NumImageTokens => (ImageSize / Vision.PatchSize / ShuffleFactor) * (ImageSize / Vision.PatchSize / ShuffleFactor);

    public void Validate()
    {
        ConfigValidationException.Require(Vision is not null, "vision", "is required");
        ConfigValidationException.Require(Llm is not null, "llm", "is required");
        ConfigValidationException.Require(Projector is not null, "projector", "is required");
        Vision!.Validate();
        Llm!.Validate();
        Projector!.Validate();
        ConfigValidationException.Require(DownsampleRatio > 0 && DownsampleRatio <= 1
            && Math.Abs(1.0 / DownsampleRatio - Math.Round(1.0 / DownsampleRatio)) < 1e-9,
            "downsample_ratio", $"must be 1/k for a whole k >= 1 (0.5 for InternVL3), got {DownsampleRatio}");
        ConfigValidationException.Require(SelectLayer >= -(Vision.NumHiddenLayers + 1) && SelectLayer <= Vision.NumHiddenLayers && SelectLayer != 0,
            "select_layer", $"must index a layer output in [-{Vision.NumHiddenLayers + 1}, {Vision.NumHiddenLayers}] other than 0, got {SelectLayer}");
        ConfigValidationException.Require(VisionLayersToRun >= 1, "select_layer", $"selects the embeddings, not a layer output ({SelectLayer})");
        ConfigValidationException.Require(Enum.IsDefined(PsVersion), "ps_version", $"unknown value {PsVersion}");
        ConfigValidationException.Require(ImageSize > 0 && ImageSize % (Vision.PatchSize * ShuffleFactor) == 0, "image_size",
            $"must be a multiple of patch_size · (1/downsample_ratio) = {Vision.PatchSize * ShuffleFactor}, got {ImageSize}");
    }

    /// <summary>Exact parameter count: vision tower + mlp1 + LLM (with lm_head when untied).</summary>
    public long ParameterCount() => Vision.ParameterCount() + ProjectorParameterCount() + Llm.ParameterCount();

    public long ProjectorParameterCount()
    {
        long i = ProjectorInputSize, d = Llm.HiddenSize;
        return 2 * i + (i * d + d) + (d * d + d);
    }

    /// <summary>OpenGVLab/InternVL3-1B: InternViT-300M-448px-V2.5 + mlp1 (4096→896→896) + Qwen2.5-0.5B.</summary>
    public static InternVlConfig InternVl3_1B { get; } = new(InternVitConfig.InternViT300M_448px_V2_5, Qwen2Config.InternVl3_1B,
        DownsampleRatio: 0.5, Projector: new VisionProjectorConfig(1e-5), SelectLayer: -1, PsVersion: PixelShuffleVersion.V2,
        ImageSize: 448, Template: "internvl2_5");

    /// <summary>OpenGVLab/InternVL3-2B: InternViT-300M-448px-V2.5 + mlp1 (4096→1536→1536) + Qwen2.5-1.5B.</summary>
    public static InternVlConfig InternVl3_2B { get; } = new(InternVitConfig.InternViT300M_448px_V2_5, Qwen2Config.InternVl3_2B,
        DownsampleRatio: 0.5, Projector: new VisionProjectorConfig(1e-5), SelectLayer: -1, PsVersion: PixelShuffleVersion.V2,
        ImageSize: 448, Template: "internvl2_5");
}
