using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// LeCam regularisation of the discriminator (reference §5.4): with the batch-mean logits r̄ = mean D(x),
/// f̄ = mean D(x̂) and the *old* EMAs, L = relu(r̄ − ema_fake)² + relu(ema_real − f̄)² (times λ = 0.001 by the
/// caller); afterwards ema ← decay·ema + (1 − decay)·mean (detached; decay 0.999).
/// </summary>
public static class LeCam
{
    /// <summary>Unweighted LeCam term; the EMAs are [1] buffers → scalar.</summary>
    public static Tensor Loss(Tensor realMean, Tensor fakeMean, Tensor emaReal, Tensor emaFake) =>
        nn.functional.relu(realMean - emaFake).square().mean() + nn.functional.relu(emaReal - fakeMean).square().mean();

    /// <summary>In place: ema ← decay·ema + (1 − decay)·value (no gradient).</summary>
    public static void UpdateEma(Tensor ema, Tensor value, double decay)
    {
        using var _ = no_grad();
        ema.mul_(decay).add_(value.detach() * (1 - decay));
    }
}
