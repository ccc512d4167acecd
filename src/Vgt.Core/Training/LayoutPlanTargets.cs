using Vgt.Tokenization;

namespace Vgt.Training;

/// <summary>
/// Prompt + layout-plan rows for VGT-AR training with a plan (<c>model.plan</c>): each conditional row is its templated
/// prompt followed by its plan's ids; the LM targets teach the plan's tokens and then the image-start marker after the
/// plan's last token (the model ends its plan by starting the image). Unconditional rows (caption dropout) carry no plan
/// and no target.
/// </summary>
public static class LayoutPlanTargets
{
    /// <summary>
    /// prompts[b]: templated, truncated prompt ids; plans[b]: the plan's ids, or null for an unconditional row.
    /// Returns the right-padded batch (pad id 0, the reference collate) and targets [Count·Length] row-major:
    /// at prompt position i the id of position i + 1 (plan tokens, then <paramref name="imageStartId"/>),
    /// <see cref="QueryArLoss.IgnoreTarget"/> elsewhere.
    /// </summary>
    public static (TokenBatch Batch, long[] Targets) Build(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]?> plans, int imageStartId)
    {
        if (prompts.Count != plans.Count) throw new ArgumentException($"{prompts.Count} prompts but {plans.Count} plans");
        var rows = prompts.Select((p, b) => plans[b] is { } plan ? [.. p, .. plan] : p).ToList();
        var batch = QueryArPrompts.Collate(rows);
        var targets = new long[batch.Count * batch.Length];
        Array.Fill(targets, QueryArLoss.IgnoreTarget);
        for (int b = 0; b < batch.Count; b++)
        {
            if (plans[b] is not { } plan) continue;
            int n = prompts[b].Length, end = n + plan.Length;                     // the plan sits at [n, end)
            if (n == 0) throw new ArgumentException($"row {b} has a plan but an empty prompt");
            for (int i = n - 1; i < end - 1; i++) targets[b * batch.Length + i] = rows[b][i + 1];
            targets[b * batch.Length + end - 1] = imageStartId;
        }
        return (batch, targets);
    }
}
