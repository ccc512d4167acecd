using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>Hinge GAN losses of VGT-AE (reference §5.2, §5.4).</summary>
public static class GanLosses
{
    /// <summary>0.5·(mean relu(1 − D(x)) + mean relu(1 + D(x̂))) → scalar.</summary>
    public static Tensor HingeDiscriminator(Tensor logitsReal, Tensor logitsFake) =>
        0.5 * (nn.functional.relu(1 - logitsReal).mean() + nn.functional.relu(1 + logitsFake).mean());

    /// <summary>Generator side: −mean D(x̂) → scalar.</summary>
    public static Tensor Generator(Tensor logitsFake) => -logitsFake.mean();
}
