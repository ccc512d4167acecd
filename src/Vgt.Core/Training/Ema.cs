using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// Exponential moving average of a model's trainable parameters (and, optionally, buffers), as the
/// reference's EMA hook: avg ← avg + (1 − decay)·(param − avg) from <see cref="StartStep"/> on; before
/// that the average is overwritten with the live weights every step.
/// </summary>
public sealed class Ema : IDisposable
{
    readonly List<(string Name, Tensor Live, Tensor Average)> entries = [];

    public double Decay { get; }
    public long StartStep { get; }

    public Ema(nn.Module model, double decay, long startStep, bool includeBuffers = true)
    {
        if (decay is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(decay), $"EMA decay must be in [0, 1), got {decay}.");
        Decay = decay;
        StartStep = startStep;
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (p.requires_grad) entries.Add((name, p, p.detach().clone()));
        if (includeBuffers)
            foreach (var (name, b) in model.named_buffers())
                if (b.is_floating_point()) entries.Add((name, b, b.detach().clone()));
    }

    /// <summary>Call after each optimiser step with that step's (0-based) index.</summary>
    public void Update(long step)
    {
        using var _ = no_grad();
        foreach (var (_, live, avg) in entries)
        {
            if (step < StartStep) avg.copy_(live);
            else avg.add_(live.detach() - avg, alpha: 1 - Decay);
        }
    }

    /// <summary>Sets the average of <paramref name="name"/> to its live value (a tensor fitted outside the optimiser, once).</summary>
    public void Reset(string name)
    {
        using var _ = no_grad();
        var (_, live, avg) = entries.Single(e => e.Name == name);
        avg.copy_(live);
    }

    /// <summary>The averaged tensors by name (shared storage: clone before mutating).</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict() => entries.ToDictionary(e => e.Name, e => e.Average);

    /// <summary>Restores averages saved earlier (exact resume).</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = no_grad();
        foreach (var (name, _, avg) in entries)
        {
            if (!state.TryGetValue(name, out var t)) throw new InvalidDataException($"EMA state lacks '{name}'.");
            avg.copy_(t);
        }
    }

    public void Dispose()
    {
        foreach (var e in entries) e.Average.Dispose();
        entries.Clear();
    }
}
