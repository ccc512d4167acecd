using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>Where a sampler's Gaussian noise comes from, in draw order (initial x₀ first, then one per step).</summary>
public interface INoiseSource
{
    /// <summary>The next standard-normal fp32 tensor of the given shape.</summary>
    Tensor Next(long[] shape);
}

/// <summary>Noise from a torch generator (use a VgtSeed named stream, e.g. <c>seed.TorchGenerator("noise")</c>).</summary>
public sealed class GeneratorNoise(Generator generator) : INoiseSource
{
    public Tensor Next(long[] shape) => randn(shape, dtype: float32, generator: generator);
}

/// <summary>
/// Pre-drawn noise handed out in order (parity tests: the same numbers as a PyTorch run, whatever the RNG).
/// Running out, or a shape that does not match, is an error.
/// </summary>
public sealed class FixedNoise : INoiseSource
{
    private readonly Queue<Tensor> queue;

    public FixedNoise(IEnumerable<Tensor> draws) => queue = new Queue<Tensor>(draws);

    /// <summary>x₀ [M, C] followed by the per-step draws ξ [S, M, C] (split along the first axis).</summary>
    public static FixedNoise ForSde(Tensor x0, Tensor xi) => new(new[] { x0 }.Concat(xi.unbind(0)));

    public int Remaining => queue.Count;

    public Tensor Next(long[] shape)
    {
        if (queue.Count == 0) throw new InvalidOperationException("FixedNoise ran out of pre-drawn tensors");
        var t = queue.Dequeue();
        if (!t.shape.SequenceEqual(shape))
            throw new ArgumentException($"FixedNoise: next tensor has shape [{string.Join(",", t.shape)}], the sampler asked for [{string.Join(",", shape)}]");
        return t.to(float32);
    }
}
