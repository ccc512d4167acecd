using System.Text.Json.Serialization;
using Vgt.Config;
using Vgt.Models.FlowHead;
using Vgt.Models.Qwen2;

namespace Vgt.Models.QueryAr;

/// <summary>
/// VGT-AR (QueryAR) model shape (reference §7.1, §12). JSON (snake_case): llm, latent_channels, latent_patch_size,
/// metaquery_max_h, metaquery_max_w, head, repa_loss_weight, max_prompt_tokens, prompts, token_codes, token_code_loss_weight,
/// plan (the last three are not in the reference; 0 codes and no plan = the reference model).
/// </summary>
public sealed record QueryArConfig : IValidatable
{
    /// <summary>The LLM (InternVL3-1B's Qwen2.5-0.5B by default).</summary>
    public required Qwen2Config Llm { get; init; }

    /// <summary>Channels of the (channel-normed) AE latent, 32.</summary>
    public int LatentChannels { get; init; } = 32;

    /// <summary>Latent patch size p (token = C·p² values), 1.</summary>
    public int LatentPatchSize { get; init; } = 1;

    /// <summary>Metaquery grid height (tokens), 64 ⇒ images up to 64·28·p px.</summary>
    public int MetaqueryMaxH { get; init; } = 64;

    /// <summary>Metaquery grid width (tokens), 64.</summary>
    public int MetaqueryMaxW { get; init; } = 64;

    /// <summary>Flow-matching head; input_dim must be C·p² and cond_dim the LLM width.</summary>
    public required FlowHeadConfig Head { get; init; }

    /// <summary>Weight of the REPA loss (0.5 when training with REPA, 0 = off); needs head.repa.</summary>
    public double RepaLossWeight { get; init; }

    /// <summary>Longest templated prompt in tokens (the training data's 256).</summary>
    public int MaxPromptTokens { get; init; } = 256;

    public PromptTemplates Prompts { get; init; } = new();

    /// <summary>
    /// K of the optional discrete token codes in front of the flow head (<see cref="TokenCodebook"/>; not in the
    /// reference). 0 = off, the reference model.
    /// </summary>
    public int TokenCodes { get; init; }

    /// <summary>Weight of the code cross-entropy next to the flow loss (only with token_codes &gt; 0).</summary>
    public double TokenCodeLossWeight { get; init; } = 1.0;

    /// <summary>The optional layout plan written before the image (<see cref="LayoutPlanConfig"/>); null = the reference model.</summary>
    public LayoutPlanConfig? Plan { get; init; }

    /// <summary>Longest templated prompt in tokens once the plan's share is set aside: max_prompt_tokens − plan.max_tokens.</summary>
    [JsonIgnore] public int PromptTokenLimit => MaxPromptTokens - (Plan?.MaxTokens ?? 0);

    /// <summary>Width of one latent token, C·p².</summary>
    [JsonIgnore] public int TokenDim => LatentChannels * LatentPatchSize * LatentPatchSize;

    public void Validate()
    {
        Llm.Validate();
        Head.Validate();
        Prompts.Validate();
        ConfigValidationException.Require(LatentChannels >= 1, "latent_channels", $"must be >= 1, got {LatentChannels}");
        ConfigValidationException.Require(LatentPatchSize >= 1, "latent_patch_size", $"must be >= 1, got {LatentPatchSize}");
        ConfigValidationException.Require(MetaqueryMaxH >= 1 && MetaqueryMaxW >= 1, "metaquery_max_h",
            $"the metaquery grid must be at least 1×1, got {MetaqueryMaxH}×{MetaqueryMaxW}");
        ConfigValidationException.Require(Head.InputDim == TokenDim, "head.input_dim",
            $"must equal latent_channels · latent_patch_size² = {TokenDim}, got {Head.InputDim}");
        ConfigValidationException.Require(Head.CondDim == Llm.HiddenSize, "head.cond_dim",
            $"must equal the LLM hidden size {Llm.HiddenSize}, got {Head.CondDim}");
        ConfigValidationException.Require(RepaLossWeight >= 0 && double.IsFinite(RepaLossWeight), "repa_loss_weight",
            $"must be finite and >= 0, got {RepaLossWeight}");
        ConfigValidationException.Require(RepaLossWeight == 0 || Head.Repa is not null, "repa_loss_weight",
            "is > 0 but head.repa is not configured");
        ConfigValidationException.Require(TokenCodes == 0 || TokenCodes >= 2, "token_codes", $"must be 0 (off) or >= 2, got {TokenCodes}");
        ConfigValidationException.Require(TokenCodeLossWeight >= 0 && double.IsFinite(TokenCodeLossWeight), "token_code_loss_weight",
            $"must be finite and >= 0, got {TokenCodeLossWeight}");
        ConfigValidationException.Require(MaxPromptTokens >= 1 && MaxPromptTokens < Llm.MaxPositionEmbeddings, "max_prompt_tokens",
            $"must be in [1, max_position_embeddings={Llm.MaxPositionEmbeddings}), got {MaxPromptTokens}");
        if (Plan is { } plan)
        {
            plan.Validate();
            ConfigValidationException.Require(Llm.TieWordEmbeddings, "plan",
                "needs an LLM with tied word embeddings (tie_word_embeddings): the plan's logits come from the embedding, and the generator carries no separate lm_head");
            ConfigValidationException.Require(plan.MaxTokens < MaxPromptTokens, "plan.max_tokens",
                $"must be below max_prompt_tokens = {MaxPromptTokens} (prompt and plan share that budget), got {plan.MaxTokens}");
        }
    }

    /// <summary>VGT-InternVL3 "0.6B" (InternVL3-1B LLM, D = 896); REPA off (inference layout).</summary>
    public static QueryArConfig InternVl3_0_6B { get; } = new()
    {
        Llm = Qwen2Config.InternVl3_1B,
        Head = new FlowHeadConfig { CondDim = 896 },
    };

    /// <summary>VGT-InternVL3 "1.6B" (InternVL3-2B LLM, D = 1536); REPA off (inference layout).</summary>
    public static QueryArConfig InternVl3_1_6B { get; } = new()
    {
        Llm = Qwen2Config.InternVl3_2B,
        Head = new FlowHeadConfig { CondDim = 1536 },
    };
}
