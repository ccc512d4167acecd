namespace Vgt.Pipelines;

/// <summary>How generated groups are fed back to the LLM (docs/queryar.md).</summary>
public enum DecodingMode
{
    /// <summary>
    /// Default. Every query sees exactly what it would see at that place in training: the prompt padding stays masked
    /// in every cached step; the queries of one group see the prefix and themselves only (not each other), all at the
    /// next free position; the group is then re-fed as training's [q, l] pairs, and the bare queries left in the cache
    /// (all but the group's first, which already is the training token) are hidden from every later step.
    /// With K = 1 this is the reference stream with padding masked.
    /// </summary>
    TrainingConsistent,

    /// <summary>
    /// The reference <c>generate</c> exactly (§9.3): no mask after the prefill (padding visible), queries of a group
    /// causal among themselves at consecutive positions, for K &gt; 1 the previous group re-fed as [q, l] pairs with
    /// its stale bare queries kept in the cache, position ids continuing per row from the last one (Appendix B item 10).
    /// </summary>
    ReferenceCompat,
}
