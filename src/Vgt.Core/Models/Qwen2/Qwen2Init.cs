using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Layers initialised as Qwen2PreTrainedModel._init_weights: Linear and Embedding weights ~ N(0, initializer_range),
/// biases 0 (RMSNorm weights 1 are set by <see cref="RmsNorm"/>, the embedding by <see cref="TokenEmbedding"/>). The tensors are created directly (no default init
/// first, which is slow at 0.5B scale and does not honour a generator) so a seeded generator reproduces them.
/// </summary>
internal static class Qwen2Init
{
    /// <summary>Linear(in → out): weight [out, in] ~ N(0, std), bias [out] = 0.</summary>
    public static Linear Linear(long inFeatures, long outFeatures, bool bias, double std, Device? device, Generator? generator)
    {
        using var _ = no_grad();
        var weight = new Parameter(empty([outFeatures, inFeatures], device: device).normal_(0, std, generator));
        var b = bias ? new Parameter(zeros(outFeatures, device: device)) : null;
        return nn.Linear(weight, b);
    }
}
