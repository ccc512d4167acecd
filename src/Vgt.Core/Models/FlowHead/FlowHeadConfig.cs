using Vgt.Config;

namespace Vgt.Models.FlowHead;

/// <summary>
/// Shape of the flow-matching head (reference §8.3). Defaults are the shipped VGT values except
/// <see cref="CondDim"/>, which is the LLM width (896 / 1536 / 2048).
/// JSON (snake_case): input_dim, cond_dim, width, depth, mlp_ratio, freq_dim, timeshift, repa.
/// </summary>
public sealed record FlowHeadConfig : IValidatable
{
    /// <summary>Token dimension the head models (latent channels · patch²), 32.</summary>
    public int InputDim { get; init; } = 32;

    /// <summary>Condition width (the LLM hidden size after image_out_projector).</summary>
    public int CondDim { get; init; } = 896;

    /// <summary>Residual stream width of SimpleMLPAdaLN, 1536.</summary>
    public int Width { get; init; } = 1536;

    /// <summary>Number of adaLN residual blocks, 12.</summary>
    public int Depth { get; init; } = 12;

    /// <summary>Block MLP hidden = floor(width · mlp_ratio), 1.0.</summary>
    public double MlpRatio { get; init; } = 1.0;

    /// <summary>Sinusoidal timestep embedding size (even), 256.</summary>
    public int FreqDim { get; init; } = 256;

    /// <summary>Training time shift s (1.4 for InternVL3, null for Qwen2.5-VL). Not used by the samplers.</summary>
    public double? Timeshift { get; init; } = 1.4;

    /// <summary>REPA projector (training only); null = off.</summary>
    public RepaConfig? Repa { get; init; }

    /// <summary>Hidden size of each block's MLP.</summary>
    public int MlpHidden => (int)Math.Floor(Width * MlpRatio);

    public void Validate()
    {
        ConfigValidationException.Require(InputDim >= 1, "input_dim", $"must be >= 1, got {InputDim}");
        ConfigValidationException.Require(CondDim >= 1, "cond_dim", $"must be >= 1, got {CondDim}");
        ConfigValidationException.Require(Width >= 1, "width", $"must be >= 1, got {Width}");
        ConfigValidationException.Require(Depth >= 1, "depth", $"must be >= 1, got {Depth}");
        ConfigValidationException.Require(MlpRatio > 0 && double.IsFinite(MlpRatio) && MlpHidden >= 1, "mlp_ratio",
            $"must be > 0 and give a hidden size >= 1 (width · mlp_ratio), got {MlpRatio}");
        ConfigValidationException.Require(FreqDim >= 2 && FreqDim % 2 == 0, "freq_dim", $"must be even and >= 2, got {FreqDim}");
        ConfigValidationException.Require(Timeshift is null || (Timeshift > 0 && double.IsFinite(Timeshift.Value)), "timeshift",
            $"must be null (off) or a finite value > 0, got {Timeshift}");
        if (Repa is { } r)
        {
            ConfigValidationException.Require(r.FeatureDim >= 1, "repa.feature_dim", $"must be >= 1, got {r.FeatureDim}");
            ConfigValidationException.Require(r.ProjectorDim >= 1, "repa.projector_dim", $"must be >= 1, got {r.ProjectorDim}");
            ConfigValidationException.Require(r.Depth >= 1 && r.Depth <= Depth, "repa.depth",
                $"must be in [1, depth={Depth}] (the block after which features are taken), got {r.Depth}");
        }
    }
}

/// <summary>
/// REPA alignment branch (§8.6): features after block <see cref="Depth"/> (1-based; the reference uses
/// max(2, depth/2) = 6) go through Linear(width→projector_dim)·SiLU·Linear·SiLU·Linear(→feature_dim).
/// </summary>
public sealed record RepaConfig
{
    /// <summary>Target feature width (DINOv3 ViT-B/16: 768).</summary>
    public int FeatureDim { get; init; } = 768;

    /// <summary>1-based block index whose output is projected.</summary>
    public int Depth { get; init; } = 6;

    /// <summary>Projector hidden width, 2048.</summary>
    public int ProjectorDim { get; init; } = 2048;
}
