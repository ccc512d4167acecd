using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>Which parameters get weight decay, and which get a learning-rate multiplier.</summary>
public sealed record DecayRule(IReadOnlyList<string> NoDecayNameParts, IReadOnlyList<string> ScaledPrefixes, double ScaledLrMultiplier)
{
    /// <summary>VGT-AE (reference `create_optimizer`): no decay for ndim &lt; 2 or names containing any of these parts; `encoder.` at 0.5× LR.</summary>
    public static DecayRule VgtAe(double encoderLrMultiplier = 0.5) => new(
        ["ln", "bias", "latent_tokens", "mask_token", "embedding", "norm", "gamma", "embed"], ["encoder."], encoderLrMultiplier);

    /// <summary>VGT-AR (reference CustomAdamW): decay exactly the parameters with ndim ≥ 2.</summary>
    public static readonly DecayRule VgtAr = new([], [], 1.0);

    public bool Decays(string name, Tensor p) => p.dim() >= 2 && !NoDecayNameParts.Any(name.Contains);

    public bool Scaled(string name) => ScaledPrefixes.Any(name.StartsWith);
}

public static class ParameterGroups
{
    /// <summary>
    /// AdamW with up to four groups (scaled × decay), trainable parameters only, deterministic order.
    /// Returns the optimiser and, for logging and tests, the names in each group.
    /// </summary>
    public static (AdamW Optimizer, IReadOnlyList<(string Group, IReadOnlyList<string> Names)> Groups) CreateAdamW(
        IEnumerable<(string Name, Parameter Param)> named, DecayRule rule, double lr, double weightDecay,
        double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8)
    {
        var buckets = new SortedDictionary<string, List<(string, Parameter)>>(StringComparer.Ordinal);
        foreach (var (name, p) in named)
        {
            if (!p.requires_grad) continue;
            var key = (rule.Scaled(name) ? "scaled" : "base") + (rule.Decays(name, p) ? "/decay" : "/no_decay");
            if (!buckets.TryGetValue(key, out var list)) buckets[key] = list = [];
            list.Add((name, p));
        }
        if (buckets.Count == 0) throw new ArgumentException("No trainable parameters were given to the optimiser.");
        var groups = buckets.Select(kv => new AdamW.ParamGroup(kv.Value.Select(x => x.Item2),
            new AdamW.Options
            {
                LearningRate = lr * (kv.Key.StartsWith("scaled") ? rule.ScaledLrMultiplier : 1.0),
                weight_decay = kv.Key.EndsWith("/decay") ? weightDecay : 0.0,
                beta1 = beta1, beta2 = beta2, eps = eps,
            })).ToList();
        var opt = new AdamW(groups, lr, beta1, beta2, eps, weightDecay);
        var names = buckets.Select(kv => (kv.Key, (IReadOnlyList<string>)kv.Value.Select(x => x.Item1).ToList())).ToList();
        return (opt, names);
    }
}
