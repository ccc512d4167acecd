using System.Globalization;
using System.Text.Json.Serialization;

namespace Vgt.Sampling;

/// <summary>
/// The flow times at which classifier-free guidance applies (Kynkäänniemi et al. 2024, "Applying guidance in a limited
/// interval"; not in the reference, which guides at every t). Outside [Low, High] the sampler uses the conditional
/// velocity alone. t = 0 is noise and t = 1 data, so Low &gt; 0 leaves the earliest, coarsest decisions (for Shapes World:
/// whether a position is object or background) unguided. <see cref="Full"/> = always (the reference).
/// </summary>
public readonly record struct GuidanceInterval(double Low, double High)
{
    public static GuidanceInterval Full => new(0, 1);

    // computed, so not written to config files; files written before this still load (the value is read and dropped)
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWriting)]
    public bool IsFull => Low <= 0 && High >= 1;

    public bool Contains(double t) => t >= Low && t <= High;

    /// <summary>The rule every interval must satisfy, for messages.</summary>
    public const string Rule = "0 ≤ low ≤ high ≤ 1";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWriting)]
    public bool IsValid => Low >= 0 && High <= 1 && Low <= High;

    public void Validate()
    {
        if (!IsValid)
            throw new ArgumentOutOfRangeException(nameof(Low), this, $"guidance interval must satisfy {Rule}, got [{Low.ToString(CultureInfo.InvariantCulture)}, {High.ToString(CultureInfo.InvariantCulture)}]");
    }

    /// <summary>"LOW,HIGH" (e.g. "0.2,1") → interval.</summary>
    public static GuidanceInterval Parse(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var lo)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var hi))
            throw new ArgumentException($"a guidance interval is two flow times LOW,HIGH in [0, 1] (e.g. 0.2,1), got '{text}'");
        var interval = new GuidanceInterval(lo, hi);
        try { interval.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new ArgumentException(e.Message.Split(" (Parameter")[0]); }
        return interval;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Low},{High}");
}
