using TorchSharp;
using Vgt.Sampling;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// Noise for one sampler call: the first draw (x₀) from the "noise" stream, every later one (SDE steps) from the
/// "sampling" stream, so changing the step count never changes a group's starting noise.
/// </summary>
internal sealed class StreamNoise(Generator initial, Generator steps) : INoiseSource
{
    private bool first = true;

    public Tensor Next(long[] shape)
    {
        var g = first ? initial : steps;
        first = false;
        return randn(shape, dtype: float32, generator: g);
    }
}
