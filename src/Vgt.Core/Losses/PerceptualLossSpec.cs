using System.Globalization;

namespace Vgt.Losses;

/// <summary>
/// The reference's perceptual-loss name (§5.2): "lpips", "convnext_s", or "lpips-convnext_s-{w_lpips}-{w_convnext}"
/// (weighted average (w₁·LPIPS + w₂·ConvNeXt)/(w₁ + w₂)); plus our "teacher" (<see cref="FeaturePerceptualLoss"/>
/// on a frozen feature extractor, for data where the ImageNet networks are unavailable or unsuitable).
/// </summary>
public sealed record PerceptualLossSpec(bool Lpips, bool ConvNext, bool Teacher, double? LpipsWeight, double? ConvNextWeight)
{
    public static PerceptualLossSpec Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "teacher") return new(false, false, true, null, null);
        bool lp = name.Contains("lpips", StringComparison.Ordinal), cn = name.Contains("convnext_s", StringComparison.Ordinal);
        if (!lp && !cn)
            throw new ArgumentException($"Unsupported perceptual loss '{name}': expected 'lpips', 'convnext_s', 'lpips-convnext_s-A-B' or 'teacher'.", nameof(name));
        if (!(lp && cn)) return new(lp, cn, false, null, null);
        var parts = name.Split('-');
        if (parts.Length < 4 || !TryWeight(parts[^2], out var a) || !TryWeight(parts[^1], out var b) || a + b <= 0)
            throw new ArgumentException($"Perceptual loss '{name}' must end with two non-negative weights, e.g. 'lpips-convnext_s-1.0-0.1'.", nameof(name));
        return new(true, true, false, a, b);
    }

    static bool TryWeight(string s, out double w) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out w) && w >= 0 && double.IsFinite(w);
}
