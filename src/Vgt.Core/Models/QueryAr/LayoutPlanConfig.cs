using Vgt.Config;

namespace Vgt.Models.QueryAr;

/// <summary>
/// A layout plan before the image (not in the reference): the LLM first writes, as ordinary text after the assistant
/// turn, the objects it is about to draw and where ("red square 352, blue circle 615"), ends the plan with the image-start
/// marker, and the image is then generated conditioned on prompt + plan. The plan is a discrete decision made once, so
/// the image tokens no longer have to guess from the prompt alone how many objects there are, which one comes first and
/// what shape it has. Training adds <see cref="LossWeight"/> × the LM loss on the plan tokens (teacher-forced with the
/// plan of the scene); generation samples the plan with <see cref="Temperature"/> from the seed's "plan" stream.
/// JSON (snake_case): max_tokens, loss_weight, temperature.
/// </summary>
public sealed record LayoutPlanConfig : IValidatable
{
    /// <summary>Most plan tokens generated before the image starts (the image-start marker is forced after them).</summary>
    public int MaxTokens { get; init; } = 48;

    /// <summary>Weight of the plan's LM loss next to the flow loss.</summary>
    public double LossWeight { get; init; } = 1.0;

    /// <summary>Sampling temperature of the plan (0 = greedy: one layout per prompt).</summary>
    public double Temperature { get; init; } = 1.0;

    public void Validate()
    {
        ConfigValidationException.Require(MaxTokens >= 1, "plan.max_tokens", $"must be >= 1, got {MaxTokens}");
        ConfigValidationException.Require(LossWeight >= 0 && double.IsFinite(LossWeight), "plan.loss_weight", $"must be finite and >= 0, got {LossWeight}");
        ConfigValidationException.Require(Temperature >= 0 && double.IsFinite(Temperature), "plan.temperature", $"must be finite and >= 0 (0 = greedy), got {Temperature}");
    }
}
