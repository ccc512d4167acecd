using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>Draws x [M, C] (t = 1 end, fp32) from a velocity field given conditions, one sampler call per group.</summary>
public interface IFlowSampler
{
    /// <summary>
    /// cond [M·m, D] (m = 2: cond block then uncond block, see <see cref="GuidanceLayout"/>), CFG scale, number
    /// of network evaluations, noise source → x [M, C] in fp32 (the reference returns bf16; callers LayerNorm it).
    /// </summary>
    Tensor Sample(IVelocityField net, Tensor cond, double cfg, int steps, INoiseSource noise, GuidanceLayout layout = GuidanceLayout.Auto);
}

public static class FlowSamplerExtensions
{
    /// <summary>As <see cref="IFlowSampler.Sample"/> with noise drawn from a torch generator (a VgtSeed stream).</summary>
    public static Tensor Sample(this IFlowSampler sampler, IVelocityField net, Tensor cond, double cfg, int steps,
        Generator generator, GuidanceLayout layout = GuidanceLayout.Auto)
        => sampler.Sample(net, cond, cfg, steps, new GeneratorNoise(generator), layout);
}
