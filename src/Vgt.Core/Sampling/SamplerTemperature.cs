using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>The temperature τ shared by the head samplers: Gaussian draws are scaled by τ (τ = 1 leaves them as drawn).</summary>
public static class SamplerTemperature
{
    /// <summary>Largest accepted τ: beyond it samples leave the latent range the decoder was trained on.</summary>
    public const double Max = 10.0;

    public static void Check(double temperature)
    {
        if (!(temperature > 0 && temperature <= Max))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"temperature must be in (0, {Max}] (1 = the model's distribution)");
    }

    /// <summary>τ·noise; returns <paramref name="noise"/> itself when τ = 1, so the reference path stays bit-identical.</summary>
    public static Tensor Scale(Tensor noise, double temperature) => temperature == 1.0 ? noise : noise.mul(temperature);
}
