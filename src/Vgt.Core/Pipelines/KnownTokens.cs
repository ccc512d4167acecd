using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// Latent tokens fixed in advance, for completion (inpainting): the decoding loop feeds them first, as one group,
/// and samples only the others, each conditioned on the given tokens exactly as training conditions a query on the
/// (query, latent) pairs before it. <see cref="Tokens"/> [N, L, C·p²] holds every image's tokens in raster order
/// (channel-normed, as the AE encoder makes them; rows of positions that are not given are ignored);
/// <see cref="Given"/>[i] says whether position i is given, the same for every image.
/// </summary>
public sealed record KnownTokens(Tensor Tokens, IReadOnlyList<bool> Given)
{
    /// <summary>Positions given.</summary>
    public int Count => Given.Count(g => g);

    /// <summary>Checks the shapes against a request of <paramref name="images"/> images, <paramref name="tokens"/> positions of width <paramref name="tokenDim"/>.</summary>
    public void Check(long images, int tokens, long tokenDim)
    {
        if (Given.Count != tokens)
            throw new ArgumentException($"known tokens: the mask has {Given.Count} entries, the token grid {tokens} positions");
        if (Tokens.dim() != 3 || Tokens.shape[0] != images || Tokens.shape[1] != tokens || Tokens.shape[2] != tokenDim)
            throw new ArgumentException($"known tokens must be [{images}, {tokens}, {tokenDim}] (images × positions × C·p²), got [{string.Join(", ", Tokens.shape)}]");
        if (Tokens.dtype != ScalarType.Float32) throw new ArgumentException($"known tokens must be float32, got {Tokens.dtype}");
        if (!Tokens.isfinite().all().item<bool>()) throw new ArgumentException("known tokens contain NaN or infinite values");
    }

    /// <summary>
    /// The generation order with the given positions moved to the front (each part keeping its order in
    /// <paramref name="order"/>), and its groups: all given positions in one group, then the others in groups of
    /// about <paramref name="groupSize"/> (as <see cref="Sampling.GenerationSchedule.GroupSizes"/> splits them). CFG
    /// progress counts the given group as the ⌈given / K⌉ groups plain generation would have spent on it.
    /// </summary>
    public Sampling.GenerationSchedule Reorder(IReadOnlyList<int> order, int groupSize)
    {
        var given = order.Where(i => Given[i]).ToArray();
        var free = order.Where(i => !Given[i]).ToArray();
        var groups = new List<int[]>();
        if (given.Length > 0) groups.Add(given);
        if (free.Length > 0) groups.AddRange(Sampling.GenerationSchedule.FromOrder(free, Math.Min(groupSize, free.Length)).Groups);
        return new Sampling.GenerationSchedule([.. given, .. free], groups)
        {
            GivenAsGroups = given.Length == 0 ? 0 : (given.Length + groupSize - 1) / groupSize,
        };
    }
}
