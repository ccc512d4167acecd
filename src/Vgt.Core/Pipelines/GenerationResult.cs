using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// Wall-clock time per stage of one <see cref="TextToImagePipeline.Generate"/> call; <see cref="Plan"/> is the layout
/// plan's decoding (zero for a model without a plan), not part of <see cref="Llm"/>.
/// </summary>
public sealed record GenerationTimings(TimeSpan Tokenize, TimeSpan Llm, TimeSpan Head, TimeSpan Decode, TimeSpan Total, TimeSpan Plan = default);

/// <summary>
/// Images [N, 3, H, W] (≈[−1, 1], unclamped) and latents [N, C, h, w] (channel-normed), in the order
/// [p₁×G, p₂×G, …]; the token order used; timings; for a model with a layout plan, each image's plan text (else null).
/// </summary>
public sealed record GenerationResult(Tensor Images, Tensor Latents, int[] Order, GenerationTimings Timings, IReadOnlyList<string>? Plans = null) : IDisposable
{
    public void Dispose()
    {
        Images.Dispose();
        Latents.Dispose();
    }
}
