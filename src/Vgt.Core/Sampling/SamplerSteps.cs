using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>The single update rules of the samplers (α_t = t, σ_t = 1 − t; t = 1 is data).</summary>
public static class SamplerSteps
{
    /// <summary>
    /// Euler–Maruyama step of the reference SDE (§9.5): score s = (t·v − x)/(1 − t), drift f = v + (1−t)·s
    /// (= (1+t)·v − x), x' = x + f·dt + √(2(1−t))·√dt·ξ. Requires t &lt; 1.
    /// </summary>
    public static Tensor EulerMaruyama(Tensor x, Tensor v, float t, float dt, Tensor xi)
    {
        var score = (t * v - x) / (1f - t);
        var drift = v + (1f - t) * score;
        float diffusion = MathF.Sqrt(2f * (1f - t)) * MathF.Sqrt(dt);
        return x + drift * dt + diffusion * xi;
    }

    /// <summary>Deterministic Euler step x' = x + v·dt.</summary>
    public static Tensor Euler(Tensor x, Tensor v, float dt) => x + v * dt;
}
