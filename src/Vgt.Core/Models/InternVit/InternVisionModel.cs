using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.InternVit;

/// <summary>
/// InternVisionModel: `embeddings` then `encoder.layers.*`; returns the last layer's output (no final norm), class token
/// included. State-dict names match the checkpoint (prefix `vision_model.` inside InternVL, `encoder.` in VGT-AE).
/// </summary>
public sealed class InternVisionModel : nn.Module<Tensor, Tensor>
{
    private readonly InternVitEmbeddings embeddings;
    private readonly InternVitEncoder encoder;

    public InternVisionModel(InternVitConfig config, Device? device = null, Generator? generator = null) : base(nameof(InternVisionModel))
    {
        config.Validate();
        Config = config;
        embeddings = new InternVitEmbeddings(config, device, generator);
        encoder = new InternVitEncoder(config, device, generator);
        RegisterComponents();
    }

    public InternVitConfig Config { get; }

    public InternVitEmbeddings Embeddings => embeddings;

    public InternVitEncoder Encoder => encoder;

    /// <summary>pixels [B,C,H,W] → last_hidden_state [B, 1 + (H/p)(W/p), D].</summary>
    public override Tensor forward(Tensor pixels) => Forward(pixels, Config.NumHiddenLayers);

    /// <summary>
    /// pixels [B,C,H,W] → hidden state after <paramref name="numLayers"/> layers (0 = embeddings only), i.e. HF's
    /// hidden_states[numLayers].
    /// </summary>
    public Tensor Forward(Tensor pixels, int numLayers)
    {
        using var scope = NewDisposeScope();
        return encoder.Forward(embeddings.forward(pixels), numLayers).MoveToOuterDisposeScope();
    }
}
