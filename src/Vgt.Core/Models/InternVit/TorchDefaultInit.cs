using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.InternVit;

/// <summary>
/// PyTorch's default Linear/Conv initialisation, done with an explicit generator so a seed reproduces it:
/// kaiming_uniform(a=√5) on the weight equals U(−1/√fan_in, 1/√fan_in), and the bias is U(−1/√fan_in, 1/√fan_in).
/// InternViT and mlp1 keep these defaults (the reference defines no _init_weights for them).
/// </summary>
public static class TorchDefaultInit
{
    /// <summary>Linear(in → out) with weight [out, in] and bias [out] ~ U(±1/√in).</summary>
    public static Linear Linear(long inFeatures, long outFeatures, bool bias, Device? device, Generator? generator)
    {
        using var _ = no_grad();
        double bound = 1.0 / Math.Sqrt(inFeatures);
        var weight = new Parameter(empty([outFeatures, inFeatures], device: device).uniform_(-bound, bound, generator));
        var b = bias ? new Parameter(empty(outFeatures, device: device).uniform_(-bound, bound, generator)) : null;
        return nn.Linear(weight, b);
    }

    /// <summary>Re-initialises a Conv2d's weight and bias ~ U(±1/√fan_in), fan_in = C_in/groups · kh · kw.</summary>
    public static Conv2d Apply(Conv2d layer, Generator? generator)
    {
        using var _ = no_grad();
        var w = layer.weight!;
        double bound = 1.0 / Math.Sqrt(w.shape[1] * w.shape[2] * w.shape[3]);
        w.uniform_(-bound, bound, generator);
        layer.bias?.uniform_(-bound, bound, generator);
        return layer;
    }
}
