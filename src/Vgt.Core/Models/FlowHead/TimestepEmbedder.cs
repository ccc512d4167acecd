using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>
/// Flow time t ∈ [0,1] → width (reference §8.3 `time_embed`): sinusoid(t) → mlp.0 → SiLU → mlp.2.
/// </summary>
public sealed class TimestepEmbedder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential mlp; // mlp.0 Linear(freq→width), mlp.1 SiLU, mlp.2 Linear(width→width)
    private readonly int freqDim;

    public TimestepEmbedder(int width, int freqDim, Generator? generator = null) : base("time_embed")
    {
        this.freqDim = freqDim;
        mlp = nn.Sequential(nn.Linear(freqDim, width), nn.SiLU(), nn.Linear(width, width));
        RegisterComponents();
        // Init: weights N(0, 0.02), biases 0.
        using var _ = no_grad();
        foreach (var i in new[] { 0, 2 })
        {
            var lin = (Linear)mlp[i];
            lin.weight!.normal_(0.0, 0.02, generator);
            lin.bias!.zero_();
        }
    }

    /// <summary>
    /// Sinusoidal embedding [N] → [N, dim] in fp32: half = dim/2, freq_k = exp(−ln(10000)·k/half),
    /// args = t·freq (t is NOT scaled by 1000), output [cos(args), sin(args)] (cos first).
    /// </summary>
    public static Tensor Sinusoid(Tensor t, int dim)
    {
        if (dim < 2 || dim % 2 != 0) throw new ArgumentException($"timestep embedding size must be even and >= 2, got {dim}", nameof(dim));
        if (t.dim() != 1) throw new ArgumentException($"t must be 1-D [N], got shape [{string.Join(",", t.shape)}]", nameof(t));
        int half = dim / 2;
        var k = arange(half, dtype: float32, device: t.device);
        var freqs = exp(k * (-Math.Log(10000.0) / half));           // [half]
        var args = t.to(float32).unsqueeze(1) * freqs.unsqueeze(0); // [N, half]
        return cat(new[] { cos(args), sin(args) }, dim: -1);         // [N, dim]
    }

    /// <summary>t [N] → [N, width].</summary>
    public override Tensor forward(Tensor t)
    {
        var first = (Linear)mlp[0];
        return mlp.forward(Sinusoid(t, freqDim).to(first.weight!.dtype));
    }
}
