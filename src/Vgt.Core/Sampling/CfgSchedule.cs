namespace Vgt.Sampling;

/// <summary>Where generation stands when a group is sampled.</summary>
/// <param name="Group">0-based index k of the group about to be sampled.</param>
/// <param name="Groups">Total number of groups G.</param>
/// <param name="TokensDone">Tokens generated before this group.</param>
/// <param name="Tokens">Total tokens L.</param>
public readonly record struct GroupProgress(int Group, int Groups, int TokensDone, int Tokens);

/// <summary>CFG scale per generation group (reference §9.3 step 9).</summary>
public abstract record CfgSchedule(double Scale)
{
    /// <summary>The CFG scale for the group described by <paramref name="p"/>.</summary>
    public abstract double ScaleFor(GroupProgress p);

    /// <summary>
    /// By name: "constant"; "linear" (the reference's, decreasing); "linear_increasing" (MAR-style).
    /// </summary>
    public static CfgSchedule Create(string name, double scale)
    {
        if (!double.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "cfg scale must be finite");
        return name switch
        {
            "constant" => new ConstantCfg(scale),
            "linear" => new LinearDecreasingCfg(scale),
            "linear_increasing" => new LinearIncreasingCfg(scale),
            _ => throw new ArgumentException($"unknown cfg schedule '{name}' (known: constant, linear, linear_increasing)", nameof(name)),
        };
    }

    protected static void Check(GroupProgress p)
    {
        if (p.Groups < 1 || p.Group < 0 || p.Group >= p.Groups)
            throw new ArgumentOutOfRangeException(nameof(p), p, $"group must be in [0, groups={p.Groups})");
        if (p.Tokens < 1 || p.TokensDone < 0 || p.TokensDone >= p.Tokens)
            throw new ArgumentOutOfRangeException(nameof(p), p, $"tokens_done must be in [0, tokens={p.Tokens})");
    }
}

/// <summary>Every group uses s.</summary>
public sealed record ConstantCfg(double Scale) : CfgSchedule(Scale)
{
    public override double ScaleFor(GroupProgress p)
    {
        Check(p);
        return Scale;
    }
}

/// <summary>
/// The reference's "linear" schedule: group k uses 1 + (s − 1)·(G − k)/G — s at group 0, decreasing to
/// 1 + (s − 1)/G at the last group (the opposite direction of MAR, §11.2 item 4).
/// </summary>
public sealed record LinearDecreasingCfg(double Scale) : CfgSchedule(Scale)
{
    public override double ScaleFor(GroupProgress p)
    {
        Check(p);
        return 1 + (Scale - 1) * (p.Groups - p.Group) / p.Groups;
    }
}

/// <summary>
/// MAR's linear schedule: 1 + (s − 1)·(tokens generated before this group)/L — 1 at group 0, rising toward s.
/// With one token per group this is 1 + (s − 1)·k/L.
/// </summary>
public sealed record LinearIncreasingCfg(double Scale) : CfgSchedule(Scale)
{
    public override double ScaleFor(GroupProgress p)
    {
        Check(p);
        return 1 + (Scale - 1) * p.TokensDone / p.Tokens;
    }
}
