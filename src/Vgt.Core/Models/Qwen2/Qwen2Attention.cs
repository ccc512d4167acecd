using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Grouped-query self-attention (backbones.md §2.1): q/k/v projections with bias, o_proj without; RoPE on q and k;
/// query head h reads kv head ⌊h / (n_heads / n_kv_heads)⌋; softmax(q·kᵀ/√hd) over the allowed keys.
/// State dict: q_proj, k_proj, v_proj (weight, bias), o_proj (weight).
/// </summary>
public sealed class Qwen2Attention : nn.Module
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear o_proj;
    private readonly int numHeads, numKvHeads, headDim;

    public Qwen2Attention(Qwen2Config config, Device? device = null, Generator? generator = null) : base(nameof(Qwen2Attention))
    {
        numHeads = config.NumAttentionHeads;
        numKvHeads = config.NumKeyValueHeads;
        headDim = config.ResolvedHeadDim;
        long d = config.HiddenSize;
        // init: weights ~ N(0, initializer_range), biases 0 (Qwen2PreTrainedModel._init_weights)
        q_proj = Qwen2Init.Linear(d, numHeads * headDim, bias: true, config.InitializerRange, device, generator);
        k_proj = Qwen2Init.Linear(d, numKvHeads * headDim, bias: true, config.InitializerRange, device, generator);
        v_proj = Qwen2Init.Linear(d, numKvHeads * headDim, bias: true, config.InitializerRange, device, generator);
        o_proj = Qwen2Init.Linear(numHeads * headDim, d, bias: false, config.InitializerRange, device, generator);
        RegisterComponents();
    }

    /// <summary>
    /// x [B,T,D]; cos/sin [B,T,hd]; allowed [B,1,T,past+T] bool or null (null = every key, no causality);
    /// cache: K/V of earlier steps for this layer, extended in place. Returns [B,T,D].
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? allowed, KvCache? cache, int layerIndex)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, numHeads, headDim).transpose(1, 2);     // [B,H,T,hd]
        var k = k_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);   // [B,Hkv,T,hd]
        var v = v_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);   // [B,Hkv,T,hd]
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(layerIndex, k, v);              // [B,Hkv,past+T,hd]
        int groups = numHeads / numKvHeads;
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, dim: 1);                                   // [B,H,S,hd]
            v = v.repeat_interleave(groups, dim: 1);
        }
        var a = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: allowed); // [B,H,T,hd]
        var merged = a.transpose(1, 2).reshape(b, t, numHeads * headDim);
        return o_proj.forward(merged).MoveToOuterDisposeScope();
    }
}
