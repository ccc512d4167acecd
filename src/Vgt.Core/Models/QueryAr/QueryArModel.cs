using TorchSharp;
using TorchSharp.Modules;
using Vgt.Models.FlowHead;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Models.QueryAr;

/// <summary>
/// VGT-AR (reference §7). State-dict names as the official checkpoints (Appendix A):
/// <c>lmm.language_model.model.*</c> (Qwen2 decoder), <c>adaptive_metaquery.*</c>, <c>image_in_projector</c>,
/// <c>image_out_projector</c>, <c>image_head.net.*</c>. The AE and DINOv3 are not part of this module.
/// Query token i = metaquery[i] + pos[i]; latent token i = image_in_projector(x_i) + pos[i].
/// </summary>
public sealed class QueryArModel : nn.Module
{
    private readonly LmmContainer lmm;
    private readonly AdaptiveMetaQuery adaptive_metaquery; // [1,D,Hmax,Wmax] ×2: N(0,1/√D) and trunc-N(0,0.02)
    private readonly Linear image_in_projector;            // Linear(C·p² → D), weight N(0, 0.02), bias 0
    private readonly Linear image_out_projector;           // Linear(D → D), weight N(0, 0.02), bias 0
    private readonly FlowMatchingHead image_head;          // SimpleMLPAdaLN, see FlowHead
    private readonly TokenCodebook? token_codes;           // optional discrete stage (token_codes > 0), not in the reference

    public QueryArConfig Config { get; }

    public QueryArModel(QueryArConfig config, Generator? generator = null) : base(nameof(QueryArModel))
    {
        config.Validate();
        Config = config;
        int d = config.Llm.HiddenSize;
        lmm = new LmmContainer(config.Llm, null, generator);
        adaptive_metaquery = new AdaptiveMetaQuery(d, config.MetaqueryMaxH, config.MetaqueryMaxW, generator);
        image_in_projector = Qwen2Init.Linear(config.TokenDim, d, bias: true, std: 0.02, device: null, generator);  // §7.1 step 6
        image_out_projector = Qwen2Init.Linear(d, d, bias: true, std: 0.02, device: null, generator);               // §7.1 step 7
        image_head = new FlowMatchingHead(config.Head, generator);
        if (config.TokenCodes > 0) token_codes = new TokenCodebook(config.TokenCodes, config.TokenDim, d, generator);
        RegisterComponents();
    }

    /// <summary>The LLM decoder (what the reference calls <c>llm.model</c>).</summary>
    public Qwen2Model Decoder => lmm.Decoder;

    public AdaptiveMetaQuery MetaQuery => adaptive_metaquery;

    public FlowMatchingHead Head => image_head;

    /// <summary>The discrete token codes, or null (token_codes = 0, the reference model).</summary>
    public TokenCodebook? Codes => token_codes;

    public int Dim => Config.Llm.HiddenSize;

    /// <summary>Token ids [B,T] → [B,T,D].</summary>
    public Tensor EmbedText(Tensor ids) => lmm.Decoder.Embed(ids);

    /// <summary>
    /// The <c>&lt;img&gt;</c> start embedding (§7.4) for the token ids of the marker (one id for InternVL3, several
    /// BPE ids for Qwen2.5-VL, embedded in order), expanded to [B, n, D].
    /// </summary>
    public Tensor ImageStartEmbedding(IReadOnlyList<int> ids, long batch)
    {
        if (ids.Count == 0) throw new ArgumentException("the image-start marker has no token ids", nameof(ids));
        using var scope = NewDisposeScope();
        var e = EmbedText(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0));   // [1,n,D]
        return e.expand(batch, ids.Count, Dim).MoveToOuterDisposeScope();
    }

    /// <summary>(Q, P) for an h × w token grid: Q = metaquery + pos, P = pos, each [1, h·w, D] row-major.</summary>
    public (Tensor Queries, Tensor Pos) QueryTokens(int h, int w)
    {
        using var scope = NewDisposeScope();
        var (mq, pos) = adaptive_metaquery.forward(h, w);
        return ((mq + pos).MoveToOuterDisposeScope(), pos.MoveToOuterDisposeScope());
    }

    /// <summary>Latent tokens: x [B,K,C·p²], pos [B or 1,K,D] → image_in_projector(x) + pos [B,K,D].</summary>
    public Tensor LatentTokens(Tensor x, Tensor pos) => image_in_projector.forward(x) + pos;

    /// <summary>Head conditions from LLM hidden states at query slots: [..., D] → image_out_projector [..., D].</summary>
    public Tensor Conditions(Tensor hidden) => image_out_projector.forward(hidden);

    /// <summary>Parameter-free LayerNorm over the token width (eps 1e-6), applied to sampled latents (§9.3 step 6).</summary>
    public static Tensor ChannelLayerNorm(Tensor x) => nn.functional.layer_norm(x, [x.shape[^1]], eps: 1e-6);
}
