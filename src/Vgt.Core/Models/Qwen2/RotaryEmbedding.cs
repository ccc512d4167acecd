using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Rotary position embedding, rotate-half (NeoX) convention (backbones.md §2.2):
/// inv_freq[i] = θ^(−2i/hd), angle = p·inv_freq (fp32), emb = [angle, angle], x' = x·cos(emb) + rotate_half(x)·sin(emb).
/// `inv_freq` is a non-persistent buffer, as in transformers (not in checkpoints).
/// </summary>
public sealed class RotaryEmbedding : nn.Module<Tensor, (Tensor Cos, Tensor Sin)>
{
    private readonly Tensor inv_freq;
    private readonly int headDim;

    public RotaryEmbedding(int headDim, double theta, Device? device = null) : base(nameof(RotaryEmbedding))
    {
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentException($"head_dim must be positive and even, got {headDim}", nameof(headDim));
        this.headDim = headDim;
        var exponent = arange(0, headDim, 2, ScalarType.Float64, device) / headDim;   // [hd/2]
        inv_freq = (1.0 / pow(theta, exponent)).to_type(ScalarType.Float32);
        register_buffer("inv_freq", inv_freq, persistent: false);
    }

    /// <summary>positionIds [B,T] (integer) → cos, sin [B,T,hd] fp32.</summary>
    public override (Tensor Cos, Tensor Sin) forward(Tensor positionIds)
    {
        if (positionIds.dim() != 2) throw new ArgumentException($"position_ids must be [B,T], got [{string.Join(",", positionIds.shape)}]");
        using var scope = NewDisposeScope();
        var invFreq = get_buffer("inv_freq") ?? inv_freq;                                 // follows .to(device)
        var angles = positionIds.to_type(ScalarType.Float32).unsqueeze(-1) * invFreq;    // [B,T,hd/2]
        var emb = cat([angles, angles], -1);                                               // [B,T,hd]
        return (emb.cos().MoveToOuterDisposeScope(), emb.sin().MoveToOuterDisposeScope());
    }

    public int HeadDim => headDim;

    /// <summary>x [B,H,T,hd], cos/sin [B,T,hd] → x·cos + rotate_half(x)·sin (in x's dtype).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var c = cos.unsqueeze(1).to_type(x.dtype);
        var s = sin.unsqueeze(1).to_type(x.dtype);
        return (x * c + RotateHalf(x) * s).MoveToOuterDisposeScope();
    }

    /// <summary>concat(−x[hd/2:], x[:hd/2]) over the last axis.</summary>
    public static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        using var scope = NewDisposeScope();
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return cat([x2.neg(), x1], -1).MoveToOuterDisposeScope();
    }
}
