using TorchSharp;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>Token generation order.</summary>
public enum GenerationOrderKind
{
    /// <summary>Raster order 0 … L−1 (the reference's "sequential").</summary>
    Raster,
    /// <summary>A random permutation (torch randperm from a generator).</summary>
    Random,
}

/// <summary>How the L tokens are split into groups for parallel decoding with about K tokens per step.</summary>
public enum GroupSizeSchedule
{
    /// <summary>The reference's acc_ratio split: max(1, L // K) groups of (nearly) equal size.</summary>
    Uniform,
    /// <summary>
    /// MAR's cosine schedule over the same number of steps: small groups first (when little of the image is known),
    /// larger ones later. After step s (of S) about L·cos(π/2·(s+1)/S) tokens are still to do.
    /// </summary>
    Cosine,
}

/// <summary>
/// Which latent positions are generated at each step (reference §9.3 step 1). <see cref="Order"/> lists token
/// indices in generation order; <see cref="Groups"/> are consecutive slices of it.
/// </summary>
public sealed record GenerationSchedule(int[] Order, IReadOnlyList<int[]> Groups)
{
    public int Tokens => Order.Length;

    public int GroupCount => Groups.Count;

    /// <summary>
    /// When the first group holds tokens given in advance (completion), the number of groups plain generation would
    /// have spent on them; CFG progress then counts that many groups for it, so a free token gets the scale it would
    /// get at the same point of plain generation. 0 = no given group.
    /// </summary>
    public int GivenAsGroups { get; init; }

    /// <summary>An explicit order, sliced into groups of about <paramref name="groupSize"/> (<see cref="GroupSizes"/>).</summary>
    public static GenerationSchedule FromOrder(int[] order, int groupSize, GroupSizeSchedule sizes = GroupSizeSchedule.Uniform)
        => new(order, Slice(order, GroupSizes(order.Length, groupSize, sizes)));

    /// <summary>Raster order, groups of about <paramref name="groupSize"/>.</summary>
    public static GenerationSchedule Raster(int tokens, int groupSize, GroupSizeSchedule sizes = GroupSizeSchedule.Uniform)
    {
        var order = Enumerable.Range(0, tokens).ToArray();
        return new(order, Slice(order, GroupSizes(tokens, groupSize, sizes)));
    }

    /// <summary>Random order from <paramref name="generator"/> (torch randperm), groups of about <paramref name="groupSize"/>.</summary>
    public static GenerationSchedule Random(int tokens, int groupSize, Generator generator, GroupSizeSchedule sizes = GroupSizeSchedule.Uniform)
    {
        CheckSizes(tokens, groupSize);
        using var perm = randperm(tokens, generator: generator);
        var order = perm.data<long>().Select(i => (int)i).ToArray();
        return new(order, Slice(order, GroupSizes(tokens, groupSize, sizes)));
    }

    /// <summary>Random order from the VgtSeed stream "order" (same seed ⇒ same order).</summary>
    public static GenerationSchedule Seeded(int tokens, int groupSize, VgtSeed seed, GroupSizeSchedule sizes = GroupSizeSchedule.Uniform)
        => Random(tokens, groupSize, seed.TorchGenerator("order"), sizes);

    public static GenerationSchedule Create(GenerationOrderKind kind, int tokens, int groupSize, Generator? generator = null,
        GroupSizeSchedule sizes = GroupSizeSchedule.Uniform) => kind switch
    {
        GenerationOrderKind.Raster => Raster(tokens, groupSize, sizes),
        GenerationOrderKind.Random => Random(tokens, groupSize,
            generator ?? throw new ArgumentNullException(nameof(generator), "random generation order needs a generator"), sizes),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown generation order"),
    };

    /// <summary>
    /// Group sizes for L tokens and group size K (the reference's acc_ratio): S = max(1, L // K) groups,
    /// base = L // S, the first L % S groups get base + 1. L=256, K=16 → 16 × 16; L=81, K=16 → 17,16,16,16,16.
    /// </summary>
    public static int[] GroupSizes(int tokens, int groupSize, GroupSizeSchedule sizes = GroupSizeSchedule.Uniform)
    {
        CheckSizes(tokens, groupSize);
        int s = Math.Max(1, tokens / groupSize);
        if (sizes == GroupSizeSchedule.Cosine) return CosineGroupSizes(tokens, s);
        int b = tokens / s, r = tokens % s;
        return Enumerable.Range(0, s).Select(k => k < r ? b + 1 : b).ToArray();
    }

    /// <summary>
    /// MAR's sample_tokens split into S steps: after step s, floor(L·cos(π/2·(s+1)/S)) tokens remain, clamped so every
    /// step decodes at least one token and the last step decodes the rest. L=16, S=4 → 2, 3, 5, 6; L=256, S=16 → 2, 3, 7, 8, …, 24, 25.
    /// </summary>
    private static int[] CosineGroupSizes(int tokens, int steps)
    {
        var sizes = new int[steps];
        int remaining = tokens;
        for (int k = 0; k < steps; k++)
        {
            int left = k == steps - 1 ? 0
                : Math.Max(steps - k - 1, Math.Min(remaining - 1, (int)Math.Floor(tokens * Math.Cos(Math.PI / 2 * (k + 1) / steps))));
            sizes[k] = remaining - left;
            remaining = left;
        }
        return sizes;
    }

    /// <summary>The CFG progress record for group <paramref name="k"/>.</summary>
    public GroupProgress Progress(int k)
    {
        if (k < 0 || k >= GroupCount) throw new ArgumentOutOfRangeException(nameof(k), k, $"group must be in [0, {GroupCount})");
        int done = 0;
        for (int i = 0; i < k; i++) done += Groups[i].Length;
        if (GivenAsGroups == 0) return new GroupProgress(k, GroupCount, done, Tokens);
        int shift = GivenAsGroups - 1;                                                   // group 0 stands for GivenAsGroups groups
        return new GroupProgress(k == 0 ? 0 : k + shift, GroupCount + shift, done, Tokens);
    }

    private static void CheckSizes(int tokens, int groupSize)
    {
        if (tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "the number of tokens L must be >= 1");
        if (groupSize < 1) throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "group size K (acc_ratio) must be >= 1");
        if (groupSize > tokens)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"group size K (acc_ratio) must be <= the number of tokens L = {tokens}");
    }

    private static int[][] Slice(int[] order, int[] sizes)
    {
        var groups = new int[sizes.Length][];
        int at = 0;
        for (int k = 0; k < sizes.Length; k++)
        {
            groups[k] = order[at..(at + sizes[k])];
            at += sizes[k];
        }
        return groups;
    }
}
