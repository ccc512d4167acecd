using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// Training-consistent decoding (<see cref="DecodingMode.TrainingConsistent"/>). With group g = (g₀ … g_{K−1}) and
/// its query slot position s (the next free training position):
/// <list type="bullet">
/// <item>its queries are fed at position s each, seeing the visible prefix and themselves only — each one's hidden
/// state is what training computes for that query placed next;</item>
/// <item>the next call first re-feeds [l_{g₀}, q_{g₁}, l_{g₁}, …, q_{g_{K−1}}, l_{g_{K−1}}] at positions s+1 … s+2K−1
/// (causal), i.e. training's pairs; the bare q_{g₀} already cached at s is exactly training's token, the other bare
/// queries stay in the cache but are hidden from every later token;</item>
/// <item>the prompt padding stays hidden in every step.</item>
/// </list>
/// The visible cache is then always exactly the training sequence [text, &lt;img&gt;, q, l, q, l, …] in generation order.
/// </summary>
internal sealed class ConsistentFeeder(Vgt.Models.QueryAr.QueryArModel model, Tensor queries, Tensor pos, long rows)
    : GroupFeeder(model, queries, pos, rows)
{
    private Tensor slot = zeros(1, dtype: int64).DetachFromDisposeScope(); // [R, 1] position of the current group's queries

    public override StepInput Prefill(Tensor text, Tensor textMask, Tensor img, int[] group)
    {
        var prefixMask = cat([textMask, ones(Rows, img.shape[1], dtype: @bool)], 1);
        var prefixPos = (prefixMask.to(int64).cumsum(1) - 1).clamp_min(0);         // [R, T + n]
        Keep(ref slot, prefixPos.narrow(1, prefixPos.shape[1] - 1, 1) + 1);
        return Step(cat([text, img], 1), prefixMask, prefixPos, group);
    }

    public override StepInput Next(int[] previous, Tensor latentTokens, int[] group)
    {
        long k = previous.Length;
        var pairs = Interleave(QueriesOf(previous), latentTokens);                  // [R, 2K, D]
        var refeed = pairs.narrow(1, 1, 2 * k - 1);                                  // drop q_{g₀}: already cached
        var refeedPos = slot + arange(1, 2 * k, dtype: int64).unsqueeze(0);          // [R, 2K − 1]
        Keep(ref slot, slot + 2 * k);
        return Step(refeed, ones(Rows, 2 * k - 1, dtype: @bool), refeedPos, group);
    }

    /// <summary>[sequence part (causal, masked by seqKeys), the group's queries (isolated, all at the slot)].</summary>
    private StepInput Step(Tensor seq, Tensor seqKeys, Tensor seqPos, int[] group)
    {
        int k = group.Length;
        var embeds = cat([seq, QueriesOf(group)], 1);
        var positions = cat([seqPos, slot.expand(Rows, k)], 1);
        var newKeys = cat([seqKeys, ones(Rows, k, dtype: @bool)], 1);
        var firstOnly = arange(k, dtype: int64).eq(0).unsqueeze(0).expand(Rows, k);  // stale bare queries: hidden later
        var keep = cat([seqKeys, firstOnly], 1);
        return new StepInput(embeds, positions, Allowed(newKeys, isolatedFrom: seq.shape[1], keepVisible: keep));
    }

    public override void Dispose()
    {
        slot.Dispose();
        base.Dispose();
    }
}
