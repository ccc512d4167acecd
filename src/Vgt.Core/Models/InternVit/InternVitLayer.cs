using TorchSharp;
using TorchSharp.Modules;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Models.InternVit;

/// <summary>
/// Encoder block with LayerScale: x += ls1 ⊙ attn(norm1(x)); x += ls2 ⊙ mlp(norm2(x)). norm1/norm2 are LayerNorm
/// (weight + bias) or RMSNorm (weight) per norm_type, eps = layer_norm_eps. Drop-path is inference-time identity.
/// State dict: attn.*, mlp.*, norm1.*, norm2.*, ls1 [D], ls2 [D].
/// </summary>
public sealed class InternVitLayer : nn.Module<Tensor, Tensor>
{
    private readonly InternVitAttention attn;
    private readonly InternVitMlp mlp;
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly nn.Module<Tensor, Tensor> norm2;
    private readonly Parameter ls1;
    private readonly Parameter ls2;

    public InternVitLayer(InternVitConfig config, Device? device = null, Generator? generator = null) : base(nameof(InternVitLayer))
    {
        long d = config.HiddenSize;
        attn = new InternVitAttention(config, device, generator);
        mlp = new InternVitMlp(config, device, generator);
        norm1 = MakeNorm(config, device);   // init: weight 1, bias 0
        norm2 = MakeNorm(config, device);
        ls1 = new Parameter(full(d, config.InitializerFactor, device: device));   // init: initializer_factor (0.1)
        ls2 = new Parameter(full(d, config.InitializerFactor, device: device));
        RegisterComponents();
    }

    private static nn.Module<Tensor, Tensor> MakeNorm(InternVitConfig config, Device? device) => config.NormType switch
    {
        InternVitNormType.LayerNorm => nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device),
        InternVitNormType.RmsNorm => new RmsNorm(config.HiddenSize, config.LayerNormEps, device),
        _ => throw new ArgumentOutOfRangeException(nameof(config), $"unknown norm_type {config.NormType}"),
    };

    /// <summary>x [B,N,D] → [B,N,D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + attn.forward(norm1.forward(x)) * ls1;
        var y = h + mlp.forward(norm2.forward(h)) * ls2;
        return y.MoveToOuterDisposeScope();
    }
}
