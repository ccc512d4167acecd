using TorchSharp;
using TorchSharp.Modules;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Models.InternVit;

/// <summary>
/// Bidirectional multi-head self-attention (backbones.md §3.3). qkv: Linear(D→3D, bias = qkv_bias), output features
/// [q | k | v], each head-major; optional qk-normalisation = RMSNorm over all heads' concatenated dims (q_norm, k_norm);
/// softmax(q·kᵀ/√hd)·v; proj: Linear(D→D, bias). State dict: qkv, proj, [q_norm, k_norm].
/// </summary>
public sealed class InternVitAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly RmsNorm? q_norm;
    private readonly RmsNorm? k_norm;
    private readonly Linear proj;
    private readonly int numHeads, headDim;

    public InternVitAttention(InternVitConfig config, Device? device = null, Generator? generator = null) : base(nameof(InternVitAttention))
    {
        long d = config.HiddenSize;
        numHeads = config.NumAttentionHeads;
        headDim = config.HeadDim;
        qkv = TorchDefaultInit.Linear(d, 3 * d, bias: config.QkvBias, device, generator);   // init: PyTorch default
        if (config.QkNormalization)
        {
            q_norm = new RmsNorm(d, config.LayerNormEps, device);   // init: ones
            k_norm = new RmsNorm(d, config.LayerNormEps, device);
        }
        proj = TorchDefaultInit.Linear(d, d, bias: true, device, generator);                // init: PyTorch default
        RegisterComponents();
    }

    /// <summary>x [B,N,D] → [B,N,D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], d = x.shape[2];
        var packed = qkv.forward(x);                                  // [B,N,3D]
        var q = packed.narrow(-1, 0, d);
        var k = packed.narrow(-1, d, d);
        var v = packed.narrow(-1, 2 * d, d);
        if (q_norm is not null && k_norm is not null)
        {
            q = q_norm.forward(q);
            k = k_norm.forward(k);
        }
        Tensor Heads(Tensor t) => t.reshape(b, n, numHeads, headDim).transpose(1, 2);   // [B,H,N,hd]
        var a = nn.functional.scaled_dot_product_attention(Heads(q), Heads(k), Heads(v)); // no mask
        return proj.forward(a.transpose(1, 2).reshape(b, n, d)).MoveToOuterDisposeScope();
    }
}
