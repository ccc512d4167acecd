using System.Text.Json.Serialization;
using Vgt.Config;

namespace Vgt.Models.Qwen2;

/// <summary>
/// HF `rope_scaling`. Only "dynamic" (dynamic NTK) is recognised; it changes nothing while every position is below
/// max_position_embeddings (backbones.md §2.2), which is all VGT needs, and the model refuses longer inputs.
/// </summary>
public sealed record RopeScalingConfig(string Type, double Factor) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(Type == "dynamic", "rope_scaling.type", $"only \"dynamic\" is supported, got \"{Type}\"");
        ConfigValidationException.Require(Factor >= 1, "rope_scaling.factor", $"must be >= 1, got {Factor}");
    }
}

/// <summary>Qwen2 / Qwen2.5 decoder-only LM (transformers Qwen2Config names, snake_case in JSON).</summary>
public sealed record Qwen2Config(
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int NumKeyValueHeads,
    double RmsNormEps,
    double RopeTheta,
    int MaxPositionEmbeddings,
    bool TieWordEmbeddings,
    int? HeadDim = null,
    RopeScalingConfig? RopeScaling = null,
    double InitializerRange = 0.02,
    string HiddenAct = "silu") : IValidatable
{
    /// <summary>head_dim, or hidden_size / num_attention_heads when the config leaves it out.</summary>
    [JsonIgnore] public int ResolvedHeadDim => HeadDim ?? HiddenSize / NumAttentionHeads;

    /// <summary>Query heads per key/value head (the GQA ratio).</summary>
    [JsonIgnore] public int KvGroups => NumAttentionHeads / NumKeyValueHeads;

    public void Validate()
    {
        ConfigValidationException.Require(VocabSize > 0, "vocab_size", "must be > 0");
        ConfigValidationException.Require(HiddenSize > 0, "hidden_size", "must be > 0");
        ConfigValidationException.Require(IntermediateSize > 0, "intermediate_size", "must be > 0");
        ConfigValidationException.Require(NumHiddenLayers > 0, "num_hidden_layers", "must be > 0");
        ConfigValidationException.Require(NumAttentionHeads > 0, "num_attention_heads", "must be > 0");
        ConfigValidationException.Require(NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0,
            "num_key_value_heads", $"must be > 0 and divide num_attention_heads ({NumAttentionHeads}), got {NumKeyValueHeads}");
        if (HeadDim is null)
            ConfigValidationException.Require(HiddenSize % NumAttentionHeads == 0, "head_dim",
                $"is not given and hidden_size ({HiddenSize}) is not a multiple of num_attention_heads ({NumAttentionHeads})");
        ConfigValidationException.Require(ResolvedHeadDim > 0 && ResolvedHeadDim % 2 == 0, "head_dim",
            $"must be positive and even (rotary halves), got {ResolvedHeadDim}");
        ConfigValidationException.Require(RmsNormEps > 0, "rms_norm_eps", "must be > 0");
        ConfigValidationException.Require(RopeTheta > 0, "rope_theta", "must be > 0");
        ConfigValidationException.Require(MaxPositionEmbeddings > 0, "max_position_embeddings", "must be > 0");
        ConfigValidationException.Require(InitializerRange >= 0, "initializer_range", "must be >= 0");
        ConfigValidationException.Require(HiddenAct == "silu", "hidden_act", $"only \"silu\" is supported, got \"{HiddenAct}\"");
        RopeScaling?.Validate();
    }

    /// <summary>Exact parameter count (lm_head counted only when untied).</summary>
    public long ParameterCount()
    {
        long d = HiddenSize, hd = ResolvedHeadDim, q = NumAttentionHeads * hd, kv = NumKeyValueHeads * hd;
        long attention = (d * q + q) + 2 * (d * kv + kv) + q * d;
        long mlp = 3 * d * IntermediateSize;
        long perLayer = attention + mlp + 2 * d;
        long embeddings = (long)VocabSize * d;
        return NumHiddenLayers * perLayer + d + embeddings + (TieWordEmbeddings ? 0 : embeddings);
    }

    /// <summary>The LLM of OpenGVLab/InternVL3-1B: Qwen2.5-0.5B with 151,674 rows, untied (backbones.md §2.5).</summary>
    public static Qwen2Config InternVl3_1B { get; } = new(
        VocabSize: 151674, HiddenSize: 896, IntermediateSize: 4864, NumHiddenLayers: 24, NumAttentionHeads: 14,
        NumKeyValueHeads: 2, RmsNormEps: 1e-6, RopeTheta: 1_000_000, MaxPositionEmbeddings: 32768,
        TieWordEmbeddings: false, HeadDim: null, RopeScaling: new RopeScalingConfig("dynamic", 2.0));

    /// <summary>The LLM of OpenGVLab/InternVL3-2B: Qwen2.5-1.5B with 151,674 rows, untied (backbones.md §2.5).</summary>
    public static Qwen2Config InternVl3_2B { get; } = new(
        VocabSize: 151674, HiddenSize: 1536, IntermediateSize: 8960, NumHiddenLayers: 28, NumAttentionHeads: 12,
        NumKeyValueHeads: 2, RmsNormEps: 1e-6, RopeTheta: 1_000_000, MaxPositionEmbeddings: 32768,
        TieWordEmbeddings: false, HeadDim: null, RopeScaling: new RopeScalingConfig("dynamic", 2.0));
}
