using TorchSharp;
using Vgt.Models.InternVl;
using Vgt.Models.QueryAr;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// Writes the layout plan of a generator with <c>plan</c> (<see cref="LayoutPlanConfig"/>): from a templated prompt,
/// the LLM decodes text token by token (KV cache, logits from the tied embedding) until it predicts the image-start
/// marker or reaches plan.max_tokens. Sampling draws from the caller's generator, so one seed fixes the plan.
/// </summary>
public static class LayoutPlanner
{
    /// <summary>
    /// The plan's ids for one templated prompt <paramref name="promptIds"/> (without the image-start marker, which ends
    /// every plan). <paramref name="temperature"/> 0 decodes greedily.
    /// </summary>
    public static int[] Plan(QueryArModel model, IReadOnlyList<int> promptIds, int imageStartId, int maxTokens, double temperature, Generator generator)
    {
        if (promptIds.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(promptIds));
        if (maxTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "max tokens must be >= 1");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var embedding = model.Decoder.EmbedTokens.Weight;                                   // [V, D], the tied lm_head
        using var cache = model.Decoder.NewCache();
        var input = tensor(promptIds.Select(i => (long)i).ToArray()).unsqueeze(0);          // [1, T]
        var plan = new List<int>();
        while (true)
        {
            using var step = NewDisposeScope();
            var hidden = model.Decoder.Forward(model.EmbedText(input), cache: cache);       // [1, t, D]
            var logits = nn.functional.linear(hidden.select(1, hidden.shape[1] - 1), embedding);   // [1, V]
            int next = (int)TokenChooser.Choose(logits, temperature, 1.0, generator)[0];
            if (next == imageStartId || plan.Count == maxTokens) break;
            plan.Add(next);
            input = tensor(new long[] { next }).unsqueeze(0).MoveToOuterDisposeScope();
        }
        return [.. plan];
    }
}
