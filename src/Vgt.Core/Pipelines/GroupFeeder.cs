using TorchSharp;
using Vgt.Models.QueryAr;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>One LLM call of the decoding loop; the group's queries are the last tokens of <see cref="Embeds"/>.</summary>
/// <param name="Embeds">[R, T, D]</param>
/// <param name="Positions">[R, T] int64</param>
/// <param name="Allowed">[R, 1, T, past + T] bool, true = may attend</param>
internal sealed record StepInput(Tensor Embeds, Tensor Positions, Tensor Allowed);

/// <summary>
/// Builds what the decoding loop feeds at each step (embeddings, position ids, attention pattern) and keeps the
/// per-row state between steps: which cached keys later tokens may see, and the position bookkeeping.
/// </summary>
internal abstract class GroupFeeder : IDisposable
{
    protected readonly QueryArModel Model;
    protected readonly Tensor Queries;   // [1, L, D]
    protected readonly Tensor Pos;       // [1, L, D]
    protected readonly long Rows;
    private Tensor cachedKeys;           // [R, cache length] bool: keys later steps may attend to

    protected GroupFeeder(QueryArModel model, Tensor queries, Tensor pos, long rows)
    {
        (Model, Queries, Pos, Rows) = (model, queries, pos, rows);
        cachedKeys = zeros(rows, 0, dtype: @bool).DetachFromDisposeScope();
    }

    /// <param name="multi">The reference's acc_ratio &gt; 1 (only changes <see cref="DecodingMode.ReferenceCompat"/>).</param>
    public static GroupFeeder Create(DecodingMode mode, QueryArModel model, Tensor queries, Tensor pos, long rows, bool multi) => mode switch
    {
        DecodingMode.TrainingConsistent => new ConsistentFeeder(model, queries, pos, rows),
        DecodingMode.ReferenceCompat => new ReferenceFeeder(model, queries, pos, rows) { Multi = multi },
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown decoding mode"),
    };

    /// <summary>First call: [text, &lt;img&gt;, queries of group 0]. text [R,T,D], textMask [R,T] bool, img [R,n,D].</summary>
    public abstract StepInput Prefill(Tensor text, Tensor textMask, Tensor img, int[] group);

    /// <summary>
    /// Later calls: feed back the previous group (latent tokens [R, |prev|, D] = in_proj(latents) + pos) and ask for
    /// the queries of <paramref name="group"/>.
    /// </summary>
    public abstract StepInput Next(int[] previous, Tensor latentTokens, int[] group);

    /// <summary>Query tokens of a group, [R, K, D].</summary>
    protected Tensor QueriesOf(int[] group) => Queries.index_select(1, Index(group)).expand(Rows, group.Length, Queries.shape[2]);

    protected static Tensor Index(int[] group) => tensor(group.Select(i => (long)i).ToArray());

    /// <summary>[a₀, b₀, a₁, b₁, …] from a, b [R, K, D].</summary>
    protected static Tensor Interleave(Tensor a, Tensor b) => stack([a, b], 2).reshape(a.shape[0], 2 * a.shape[1], a.shape[2]);

    /// <summary>
    /// The attention pattern of one call: new token i sees cached key j when the cache marks it visible, and new key
    /// j' ≤ i when <paramref name="newKeys"/>[r, j'] is true. Tokens at index ≥ <paramref name="isolatedFrom"/> (a
    /// group's queries) see none of each other, only themselves. Every row must keep at least one key (the prompt's
    /// first token is always real). Afterwards the cache visibility is extended by
    /// <paramref name="keepVisible"/> [R, T] (false for keys that must stay hidden from later steps).
    /// </summary>
    protected Tensor Allowed(Tensor newKeys, long isolatedFrom, Tensor keepVisible)
    {
        long t = newKeys.shape[1], past = cachedKeys.shape[1];
        var i = arange(t, dtype: int64).unsqueeze(1);                                   // [T, 1]
        var j = arange(t, dtype: int64).unsqueeze(0);                                   // [1, T]
        var local = j.le(i);                                                            // causal by index
        var isolated = i.ge(isolatedFrom).logical_and(j.ge(isolatedFrom)).logical_and(j.ne(i));
        local = local.logical_and(isolated.logical_not());                              // [T, T]
        var fresh = local.unsqueeze(0).logical_and(newKeys.unsqueeze(1));               // [R, T, T]
        var old = cachedKeys.unsqueeze(1).expand(Rows, t, past);                        // [R, T, past]
        var allowed = cat([old, fresh], 2).unsqueeze(1);                                // [R, 1, T, past + T]
        var next = cat([cachedKeys, keepVisible], 1).DetachFromDisposeScope();
        cachedKeys.Dispose();
        cachedKeys = next;
        return allowed;
    }

    /// <summary>Replaces a state tensor, keeping it out of the caller's dispose scope.</summary>
    protected static void Keep(ref Tensor field, Tensor value)
    {
        var kept = value.DetachFromDisposeScope();
        field.Dispose();
        field = kept;
    }

    public virtual void Dispose() => cachedKeys.Dispose();
}
