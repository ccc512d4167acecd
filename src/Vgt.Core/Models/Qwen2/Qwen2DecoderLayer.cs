using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Pre-norm decoder block: h += self_attn(input_layernorm(h)); h += mlp(post_attention_layernorm(h)).
/// State dict: self_attn.*, mlp.*, input_layernorm.weight, post_attention_layernorm.weight.
/// </summary>
public sealed class Qwen2DecoderLayer : nn.Module
{
    private readonly Qwen2Attention self_attn;
    private readonly Qwen2Mlp mlp;
    private readonly RmsNorm input_layernorm;
    private readonly RmsNorm post_attention_layernorm;
    private readonly int layerIndex;

    public Qwen2DecoderLayer(Qwen2Config config, int layerIndex, Device? device = null, Generator? generator = null)
        : base(nameof(Qwen2DecoderLayer))
    {
        this.layerIndex = layerIndex;
        self_attn = new Qwen2Attention(config, device, generator);
        mlp = new Qwen2Mlp(config, device, generator);
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device);           // init: ones
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device);  // init: ones
        RegisterComponents();
    }

    /// <summary>x [B,T,D] → [B,T,D]; see <see cref="Qwen2Attention.Forward"/> for the other arguments.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? allowed, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.Forward(input_layernorm.forward(x), cos, sin, allowed, cache, layerIndex);
        var y = h + mlp.forward(post_attention_layernorm.forward(h));
        return y.MoveToOuterDisposeScope();
    }
}
