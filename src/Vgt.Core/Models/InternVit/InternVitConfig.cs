using System.Text.Json.Serialization;
using Vgt.Config;

namespace Vgt.Models.InternVit;

/// <summary>Normalisation used inside the InternViT blocks (HF `norm_type`).</summary>
public enum InternVitNormType
{
    LayerNorm,
    RmsNorm,
}

/// <summary>InternViT vision encoder (InternVisionConfig names, snake_case in JSON).</summary>
public sealed record InternVitConfig(
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int PatchSize,
    int ImageSize,
    bool QkvBias,
    bool QkNormalization,
    InternVitNormType NormType,
    double LayerNormEps,
    int NumChannels = 3,
    string HiddenAct = "gelu",
    double InitializerFactor = 0.1) : IValidatable
{
    /// <summary>Side of the trained patch grid (image_size / patch_size); the position table has grid² + 1 rows.</summary>
    [JsonIgnore] public int TrainedGrid => ImageSize / PatchSize;

    [JsonIgnore] public int HeadDim => HiddenSize / NumAttentionHeads;

    public void Validate()
    {
        ConfigValidationException.Require(HiddenSize > 0, "hidden_size", "must be > 0");
        ConfigValidationException.Require(IntermediateSize > 0, "intermediate_size", "must be > 0");
        ConfigValidationException.Require(NumHiddenLayers > 0, "num_hidden_layers", "must be > 0");
        ConfigValidationException.Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0, "num_attention_heads",
            $"must be > 0 and divide hidden_size ({HiddenSize}), got {NumAttentionHeads}");
        ConfigValidationException.Require(PatchSize > 0, "patch_size", "must be > 0");
        ConfigValidationException.Require(ImageSize >= PatchSize && ImageSize % PatchSize == 0, "image_size",
            $"must be a positive multiple of patch_size ({PatchSize}), got {ImageSize}");
        ConfigValidationException.Require(NumChannels > 0, "num_channels", "must be > 0");
        ConfigValidationException.Require(LayerNormEps > 0, "layer_norm_eps", "must be > 0");
        ConfigValidationException.Require(HiddenAct == "gelu", "hidden_act", $"only \"gelu\" (exact erf GELU) is supported, got \"{HiddenAct}\"");
        ConfigValidationException.Require(Enum.IsDefined(NormType), "norm_type", $"unknown value {NormType}");
    }

    /// <summary>Exact parameter count.</summary>
    public long ParameterCount()
    {
        long d = HiddenSize, i = IntermediateSize;
        long embeddings = d + (d * NumChannels * PatchSize * PatchSize + d) + ((long)TrainedGrid * TrainedGrid + 1) * d;
        long norms = NormType == InternVitNormType.LayerNorm ? 4 * d : 2 * d;
        long perLayer = (3 * d * d + (QkvBias ? 3 * d : 0)) + (QkNormalization ? 2 * d : 0) + (d * d + d)
                        + (d * i + i) + (i * d + d) + norms + 2 * d;
        return embeddings + NumHiddenLayers * perLayer;
    }

    /// <summary>InternViT-300M-448px-V2.5, the vision tower of InternVL3-1B and -2B (vgt-reference §2.1, backbones.md §3.1).</summary>
    public static InternVitConfig InternViT300M_448px_V2_5 { get; } = new(
        HiddenSize: 1024, IntermediateSize: 4096, NumHiddenLayers: 24, NumAttentionHeads: 16, PatchSize: 14, ImageSize: 448,
        QkvBias: true, QkNormalization: false, NormType: InternVitNormType.LayerNorm, LayerNormEps: 1e-6);
}
