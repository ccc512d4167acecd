using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// The reference <c>generate</c> (§9.3): prefill [text, &lt;img&gt;, Q(g₀)] with the padding mask and
/// position ids cumsum(mask) − 1; then each step feeds [fragment(prev), Q(g)] with no mask (every cached key
/// visible), causal among the new tokens, positions last + 1, last + 2, … per row. fragment = interleave(Q, E) when
/// K &gt; 1 ("multi"), else E alone.
/// </summary>
internal sealed class ReferenceFeeder(Vgt.Models.QueryAr.QueryArModel model, Tensor queries, Tensor pos, long rows)
    : GroupFeeder(model, queries, pos, rows)
{
    private Tensor lastPos = zeros(1, dtype: int64).DetachFromDisposeScope(); // [R, 1] last position id fed

    /// <summary>True when the reference's acc_ratio &gt; 1 (fragments re-feed the queries).</summary>
    public bool Multi { get; init; }

    public override StepInput Prefill(Tensor text, Tensor textMask, Tensor img, int[] group)
    {
        var q = QueriesOf(group);                                                    // [R, K, D]
        var embeds = cat([text, img, q], 1);
        var mask = cat([textMask, ones(Rows, img.shape[1] + group.Length, dtype: @bool)], 1);
        var positions = (mask.to(int64).cumsum(1) - 1).clamp_min(0);
        Keep(ref lastPos, positions.narrow(1, positions.shape[1] - 1, 1));
        // keys later steps see: everything (the reference passes no mask after the prefill)
        var allowed = Allowed(mask, isolatedFrom: embeds.shape[1], keepVisible: ones_like(mask));
        return new StepInput(embeds, positions, allowed);
    }

    public override StepInput Next(int[] previous, Tensor latentTokens, int[] group)
    {
        var fragment = Multi ? Interleave(QueriesOf(previous), latentTokens) : latentTokens;
        var embeds = cat([fragment, QueriesOf(group)], 1);                          // [R, T, D]
        long t = embeds.shape[1];
        var positions = lastPos + arange(1, t + 1, dtype: int64).unsqueeze(0);       // [R, T]
        Keep(ref lastPos, positions.narrow(1, t - 1, 1));
        var all = ones(Rows, t, dtype: @bool);
        return new StepInput(embeds, positions, Allowed(all, isolatedFrom: t, keepVisible: all));
    }

    public override void Dispose()
    {
        lastPos.Dispose();
        base.Dispose();
    }
}
