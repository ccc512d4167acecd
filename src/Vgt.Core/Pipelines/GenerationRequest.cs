using Vgt.Imaging;
using Vgt.Sampling;

namespace Vgt.Pipelines;

/// <summary>Head sampler of a generation request.</summary>
public enum SamplerKind
{
    /// <summary>The reference Euler–Maruyama SDE with a final Euler step (§9.5).</summary>
    EulerMaruyama,
    /// <summary>Deterministic Euler on the probability-flow ODE.</summary>
    EulerOde,
}

/// <summary>
/// One text-to-image request (defaults = the reference's evaluation settings: cfg 4.5 linear, 30 SDE steps, random
/// order, K = 1, 448 × 448). Images come back as [p₁×G, p₂×G, …] with G = <see cref="ImagesPerPrompt"/>.
/// </summary>
public sealed record GenerationRequest
{
    public required IReadOnlyList<string> Prompts { get; init; }

    /// <summary>Negative prompt for the unconditional branch; null = the CFG prompt "Generate an image.".</summary>
    public string? Negative { get; init; }

    public int ImagesPerPrompt { get; init; } = 1;

    /// <summary>The one seed: streams "order" (token order), "noise" (x₀ per group) and "sampling" (SDE noise).</summary>
    public long Seed { get; init; }

    /// <summary>Guidance scale; 1 = no guidance (cond rows only).</summary>
    public double Cfg { get; init; } = 4.5;

    /// <summary>"linear" (reference, decreasing), "constant" or "linear_increasing".</summary>
    public string CfgSchedule { get; init; } = "linear";

    /// <summary>Head network evaluations per group.</summary>
    public int Steps { get; init; } = 30;

    public SamplerKind Sampler { get; init; } = SamplerKind.EulerMaruyama;

    /// <summary>Head sampling temperature τ (noise drawn as τ·N(0, I)); 1 = the reference sampler.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Flow times t at which CFG applies (elsewhere the conditional velocity alone); Full = the reference.</summary>
    public GuidanceInterval GuidanceInterval { get; init; } = GuidanceInterval.Full;

    /// <summary>CFG scale on the token-code logits (models with token_codes only); null = the flow's scale at each step.</summary>
    public double? CodeCfg { get; init; }

    /// <summary>Final deterministic step of the SDE sampler.</summary>
    public double LastStepSize { get; init; } = 0.04;

    /// <summary>Positions per step K (the reference's acc_ratio), 1 ≤ K ≤ L.</summary>
    public int ParallelK { get; init; } = 1;

    public GenerationOrderKind Order { get; init; } = GenerationOrderKind.Random;

    /// <summary>How the tokens are split into groups when K &gt; 1: the reference's equal groups, or MAR's cosine (small first).</summary>
    public GroupSizeSchedule GroupSchedule { get; init; } = GroupSizeSchedule.Uniform;

    /// <summary>
    /// The group schedule's name when it changes the groups, else null: with K = 1 every schedule decodes one token per
    /// step, and uniform is the reference's split. What the PNG extras and the CLI summaries show.
    /// </summary>
    public string? GroupScheduleNote => ParallelK > 1 && GroupSchedule != GroupSizeSchedule.Uniform ? GroupSchedule.ToString().ToLowerInvariant() : null;

    /// <summary>An explicit generation order (a permutation of 0 … L−1); overrides <see cref="Order"/>.</summary>
    public IReadOnlyList<int>? CustomOrder { get; init; }

    /// <summary>Output size in pixels; both must be multiples of the decoder stride × latent patch size.</summary>
    public (int Height, int Width) Size { get; init; } = (448, 448);

    public DecodingMode Mode { get; init; } = DecodingMode.TrainingConsistent;

    /// <summary>Pre-drawn noise for every sampler call in order (parity tests); overrides the seed's noise streams.</summary>
    public INoiseSource? Noise { get; init; }

    /// <summary>Latent tokens given in advance (completion / inpainting): fed first, never sampled; null = none.</summary>
    public KnownTokens? Known { get; init; }

    /// <summary>
    /// Models with a layout plan: this plan text for every image instead of one the model writes (e.g. "red square 352,
    /// blue circle 615"); null = the model plans. Refused for a model without a plan.
    /// </summary>
    public string? Layout { get; init; }

    /// <summary>Models with a layout plan: the plan's sampling temperature (0 = greedy); null = the model's plan.temperature.</summary>
    public double? PlanTemperature { get; init; }

    /// <summary>What to store in the PNG of image <paramref name="index"/> (0-based in the result's order).</summary>
    public GenerationParameters ParametersFor(int index, string modelId = "") => new()
    {
        Prompt = Prompts[index / ImagesPerPrompt],
        NegativePrompt = Negative,
        Seed = Seed,
        CfgScale = Cfg,
        CfgSchedule = CfgSchedule,
        Steps = Steps,
        Sampler = Sampler == SamplerKind.EulerMaruyama ? "euler_maruyama" : "euler_ode",
        Parallel = ParallelK,
        Order = CustomOrder is not null ? "custom" : Order.ToString().ToLowerInvariant(),
        Width = Size.Width,
        Height = Size.Height,
        ModelId = modelId,
        Extras = Extras(),
    };

    /// <summary>Settings outside the reference's, recorded only when they differ from it.</summary>
    private Dictionary<string, string> Extras()
    {
        var extras = new Dictionary<string, string>();
        if (Temperature != 1.0) extras["Temperature"] = Temperature.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (!GuidanceInterval.IsFull) extras["Guidance interval"] = GuidanceInterval.ToString();
        if (CodeCfg is { } codeCfg) extras["Code CFG"] = codeCfg.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (GroupScheduleNote is { } groups) extras["Group schedule"] = groups;
        if (Known is { } known) extras["Known tokens"] = known.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (PlanTemperature is { } pt) extras["Plan temperature"] = pt.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return extras;
    }
}
