using static TorchSharp.torch;

namespace Vgt.Logging;

/// <summary>Running means of optional per-step numbers (a step without a value does not count towards that mean).</summary>
public sealed class WindowMeans
{
    readonly Dictionary<string, (double Sum, int Count)> sums = new(StringComparer.Ordinal);

    public void Add(string name, Tensor? value)
    {
        if (value is null) return;
        var (sum, count) = sums.GetValueOrDefault(name);
        sums[name] = (sum + value.item<float>(), count + 1);
    }

    public IReadOnlyDictionary<string, double> Means() => sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count);

    public void Clear() => sums.Clear();
}
