using static TorchSharp.torch;

namespace Vgt.Evaluation.Metrics;

internal static class MetricChecks
{
    public static void SameImages(Tensor fake, Tensor real)
    {
        if (fake.dim() != 4 || !fake.shape.SequenceEqual(real.shape))
            throw new ArgumentException($"fake and real must be [B,C,H,W] of one shape, got [{string.Join(",", fake.shape)}] and [{string.Join(",", real.shape)}]");
    }
}
