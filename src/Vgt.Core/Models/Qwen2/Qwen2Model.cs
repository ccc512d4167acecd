using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>
/// Qwen2Model (no lm_head): embed_tokens, layers.{i}, norm, rotary_emb (no parameters). VGT feeds inputs_embeds
/// directly with explicit position ids, a key mask over cached + new keys, and a <see cref="KvCache"/>.
/// </summary>
public sealed class Qwen2Model : nn.Module
{
    private readonly TokenEmbedding embed_tokens;
    private readonly ModuleList<Qwen2DecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly RotaryEmbedding rotary_emb;

    public Qwen2Model(Qwen2Config config, Device? device = null, Generator? generator = null) : base(nameof(Qwen2Model))
    {
        config.Validate();
        Config = config;
        embed_tokens = new TokenEmbedding(config.VocabSize, config.HiddenSize, config.InitializerRange, device, generator); // init: N(0, initializer_range)
        layers = new ModuleList<Qwen2DecoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new Qwen2DecoderLayer(config, i, device, generator));
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device); // init: ones
        rotary_emb = new RotaryEmbedding(config.ResolvedHeadDim, config.RopeTheta, device);
        RegisterComponents();
    }

    public Qwen2Config Config { get; }

    public TokenEmbedding EmbedTokens => embed_tokens;

    public Qwen2DecoderLayer Layer(int index) => layers[index];

    public RotaryEmbedding Rotary => rotary_emb;

    /// <summary>Token ids [B,T] → embeddings [B,T,D].</summary>
    public Tensor Embed(Tensor inputIds) => embed_tokens.forward(inputIds);

    /// <summary>A cache with one slot per layer.</summary>
    public KvCache NewCache() => new(Config.NumHiddenLayers);

    /// <summary>
    /// inputsEmbeds [B,T,D]; positionIds [B,T] (null = past..past+T−1 for every row); attentionMask [B, past+T]
    /// bool over cached + new keys (null = no padding); cache extended in place (null = no cache).
    /// Returns the final-normed hidden states [B,T,D].
    /// </summary>
    public Tensor Forward(Tensor inputsEmbeds, Tensor? positionIds = null, Tensor? attentionMask = null, KvCache? cache = null)
    {
        if (inputsEmbeds.dim() != 3 || inputsEmbeds.shape[2] != Config.HiddenSize)
            throw new ArgumentException($"inputs_embeds must be [B,T,{Config.HiddenSize}], got [{string.Join(",", inputsEmbeds.shape)}]");
        long b = inputsEmbeds.shape[0], t = inputsEmbeds.shape[1];
        if (t == 0) throw new ArgumentException("inputs_embeds has no positions (T = 0)");
        long past = cache?.Length ?? 0;
        if (cache is not null)
        {
            if (cache.NumLayers != Config.NumHiddenLayers)
                throw new ArgumentException($"cache has {cache.NumLayers} layers, the model {Config.NumHiddenLayers}");
            if (cache.BatchSize is { } cb && cb != b)
                throw new ArgumentException($"cache holds batch {cb}, inputs_embeds has batch {b}");
        }
        using var scope = NewDisposeScope();
        var device = inputsEmbeds.device;
        positionIds ??= arange(past, past + t, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, t);
        if (positionIds.dim() != 2 || positionIds.shape[0] != b || positionIds.shape[1] != t)
            throw new ArgumentException($"position_ids must be [B={b}, T={t}], got [{string.Join(",", positionIds.shape)}]");
        var allowed = AttentionMask.CausalWithPadding(attentionMask, b, t, past, device);  // [B,1,T,past+T]
        return ForwardAllowed(inputsEmbeds, positionIds, allowed, cache).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same forward with an explicit attention pattern instead of causal + padding: <paramref name="allowed"/>
    /// [B,1,T,past+T] bool (true = may attend; every row must allow at least one key). VGT's training-consistent
    /// parallel decoding uses it so queries of one group do not see each other and stale cached keys stay hidden.
    /// </summary>
    public Tensor ForwardAllowed(Tensor inputsEmbeds, Tensor positionIds, Tensor allowed, KvCache? cache)
    {
        long b = inputsEmbeds.shape[0], t = inputsEmbeds.shape[1], total = (cache?.Length ?? 0) + t;
        if (allowed.dim() != 4 || allowed.shape[0] != b || allowed.shape[1] != 1 || allowed.shape[2] != t || allowed.shape[3] != total)
            throw new ArgumentException($"allowed must be [B={b}, 1, T={t}, past+T={total}], got [{string.Join(",", allowed.shape)}]");
        if (positionIds.dim() != 2 || positionIds.shape[0] != b || positionIds.shape[1] != t)
            throw new ArgumentException($"position_ids must be [B={b}, T={t}], got [{string.Join(",", positionIds.shape)}]");
        using var scope = NewDisposeScope();
        CheckRopeRange(positionIds);
        var (cos, sin) = rotary_emb.forward(positionIds);                                  // [B,T,hd] fp32
        var h = inputsEmbeds;
        foreach (var layer in layers) h = layer.Forward(h, cos, sin, allowed, cache);
        return norm.forward(h).MoveToOuterDisposeScope();
    }

    private void CheckRopeRange(Tensor positionIds)
    {
        if (Config.RopeScaling is null) return;
        long maxPos = positionIds.max().to_type(ScalarType.Int64).item<long>();
        if (maxPos + 1 > Config.MaxPositionEmbeddings)
            throw new NotSupportedException(
                $"position {maxPos} is beyond max_position_embeddings ({Config.MaxPositionEmbeddings}); dynamic NTK rope scaling for longer inputs is not implemented");
    }
}
