using TorchSharp;
using Vgt.Models.InternVit;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>
/// InternVLChatModel's modules with the checkpoint names: `vision_model` (<see cref="InternVisionModel"/>), `mlp1`
/// (<see cref="VisionProjector"/>), `language_model` (<see cref="Qwen2ForCausalLM"/>). The forward replaces the
/// embedding of every image-context token, in order over the flattened batch, with one image token from mlp1.
/// </summary>
public sealed class InternVlModel : nn.Module
{
    private readonly InternVisionModel vision_model;
    private readonly VisionProjector mlp1;
    private readonly Qwen2ForCausalLM language_model;

    public InternVlModel(InternVlConfig config, Device? device = null, Generator? generator = null) : base(nameof(InternVlModel))
    {
        config.Validate();
        Config = config;
        vision_model = new InternVisionModel(config.Vision, device, generator);
        mlp1 = new VisionProjector(config, device, generator);
        language_model = new Qwen2ForCausalLM(config.Llm, device, generator);
        RegisterComponents();
    }

    public InternVlConfig Config { get; }

    public InternVisionModel VisionModel => vision_model;

    public VisionProjector Mlp1 => mlp1;

    public Qwen2ForCausalLM LanguageModel => language_model;

    /// <summary>pixels [B,C,H,W] (normalised) → image tokens [B, N', D_llm].</summary>
    public Tensor ExtractFeature(Tensor pixels) => VisionFeatures.Extract(vision_model, mlp1, Config, pixels);

    /// <summary>
    /// inputIds [B,T] → embeddings [B,T,D] with the rows where inputIds == imageTokenId replaced, in row-major order,
    /// by the rows of imageTokens [*, N', D] (flattened). The counts must agree exactly.
    /// </summary>
    public Tensor EmbedWithImages(Tensor inputIds, Tensor imageTokens, long imageTokenId) =>
        EmbedWithImages(language_model.Model, inputIds, imageTokens, imageTokenId);

    /// <summary>
    /// The same with any decoder's embedding table (e.g. a VGT generator's tuned copy of the LLM fed by a frozen vision
    /// tower): inputIds [B,T] → [B,T,D], image-context rows replaced by imageTokens [*, N', D] in row-major order.
    /// </summary>
    public static Tensor EmbedWithImages(Qwen2Model llm, Tensor inputIds, Tensor imageTokens, long imageTokenId)
    {
        using var scope = NewDisposeScope();
        var embeds = llm.Embed(inputIds);                                       // [B,T,D]
        var selected = inputIds.eq(imageTokenId);                                // [B,T]
        long slots = selected.sum().item<long>();
        long d = embeds.shape[2];
        var flat = imageTokens.reshape(-1, d);
        if (slots != flat.shape[0])
            throw new ArgumentException($"the prompt has {slots} image-context tokens (id {imageTokenId}) but the images give {flat.shape[0]} image tokens");
        var merged = embeds.masked_scatter(selected.unsqueeze(-1).expand_as(embeds), flat.to_type(embeds.dtype));
        return merged.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Full forward to logits: image tokens from <paramref name="pixels"/> replace the image-context embeddings, then the
    /// LLM runs with the given positions / key mask / cache (see <see cref="Qwen2Model.Forward"/>). Returns [B,T,V].
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? pixels, long imageTokenId, Tensor? positionIds = null, Tensor? attentionMask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var embeds = pixels is null ? language_model.Model.Embed(inputIds) : EmbedWithImages(inputIds, ExtractFeature(pixels), imageTokenId);
        return language_model.Forward(embeds, positionIds, attentionMask, cache).MoveToOuterDisposeScope();
    }
}
