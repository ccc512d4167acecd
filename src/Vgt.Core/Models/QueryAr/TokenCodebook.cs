using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.QueryAr;

/// <summary>
/// Optional discrete stage in front of the flow head (not in the reference; off unless <c>token_codes</c> &gt; 0).
/// State-dict prefix <c>token_codes.</c>.
///
/// Why: the flow head must pick, per token, between very different outcomes. Examples: background or the first piece
/// of an object; the red circle or the blue square. A small flow MLP interpolates between such modes, so it paints
/// orange blends and faint half-objects. A categorical does not blend. So each latent token gets a code, its nearest
/// of K centroids (k-means over the training tokens, fitted once before training and then frozen).
/// - The LLM's condition predicts the code with a softmax (cross-entropy, teacher forced).
/// - The flow head models the token given condition + code embedding.
/// - At generation the code is sampled first (CFG on the logits), then the flow head fills in the rest.
///
/// This is the hybrid discrete + continuous token of HART (Tang et al., 2024); VGT's latents stay continuous and
/// the code is only a coarse first decision.
/// </summary>
public sealed class TokenCodebook : nn.Module
{
    private readonly Tensor centroids;   // [K, C·p²] buffer: k-means centres of training tokens (zeros until fitted)
    private readonly Linear logits;      // Linear(D → K), weight N(0, 0.02), bias 0
    private readonly Embedding embed;    // [K, D], N(0, 0.02·√D): added to the head condition

    public int Codes { get; }
    public int TokenDim { get; }

    public TokenCodebook(int codes, int tokenDim, int dim, Generator? generator = null) : base("token_codes")
    {
        if (codes < 2) throw new ArgumentOutOfRangeException(nameof(codes), codes, "token_codes must be >= 2 (0 = off)");
        (Codes, TokenDim) = (codes, tokenDim);
        centroids = zeros(codes, tokenDim);
        logits = nn.Linear(dim, codes, hasBias: true);
        embed = nn.Embedding(codes, dim);
        register_buffer("centroids", centroids);
        RegisterComponents();
        using var _ = no_grad();
        logits.weight!.normal_(0.0, 0.02, generator);
        logits.bias!.zero_();
        embed.weight!.normal_(0.0, 0.02 * Math.Sqrt(dim), generator);
    }

    /// <summary>The centroids [K, C·p²] (shared storage).</summary>
    public Tensor Centroids => centroids;

    /// <summary>True once <see cref="SetCentroids"/> ran (or a fitted checkpoint was loaded).</summary>
    public bool IsFitted => centroids.abs().sum().item<float>() > 0;

    public void SetCentroids(Tensor value)
    {
        if (value.dim() != 2 || value.shape[0] != Codes || value.shape[1] != TokenDim)
            throw new ArgumentException($"centroids must be [K={Codes}, {TokenDim}], got [{string.Join(",", value.shape)}]", nameof(value));
        using var _ = no_grad();
        centroids.copy_(value);
    }

    /// <summary>Code logits from head conditions: [N, D] → [N, K].</summary>
    public Tensor Logits(Tensor conditions) => logits.forward(conditions);

    /// <summary>Condition of the flow head given a code: c [N, D] + embed(k) [N, D].</summary>
    public Tensor Condition(Tensor conditions, Tensor codes) => conditions + embed.forward(codes);

    /// <summary>Nearest centroid (squared Euclidean) of each token: x [N, C·p²] → [N] int64.</summary>
    public Tensor Assign(Tensor x) => Nearest(x, centroids);

    internal static Tensor Nearest(Tensor x, Tensor centres)
    {
        const long chunk = 16384;                                                    // bounds the [rows, K] distance block
        using var scope = NewDisposeScope();
        var norms = centres.square().sum(1).unsqueeze(0);                            // [1, K]
        var parts = new List<Tensor>();
        for (long i = 0; i < x.shape[0]; i += chunk)
        {
            var rows = x.narrow(0, i, Math.Min(chunk, x.shape[0] - i)).to(float32);
            // ‖x − c‖² = ‖c‖² − 2·x·cᵀ (+ ‖x‖², the same for every c)
            parts.Add((norms - 2 * rows.matmul(centres.t())).argmin(1));              // [rows]
        }
        return (parts.Count == 1 ? parts[0] : cat(parts, 0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// k-means (Lloyd) over tokens [N, C·p²]: centres start at K distinct random tokens (from
    /// <paramref name="generator"/>), then <paramref name="iterations"/> rounds of assign + mean. An empty cluster is
    /// re-seeded with the token farthest from its centre, so every code is used. Returns [K, C·p²].
    /// </summary>
    public static Tensor KMeans(Tensor tokens, int codes, int iterations, Generator generator)
    {
        if (tokens.dim() != 2) throw new ArgumentException($"tokens must be [N, C], got [{string.Join(",", tokens.shape)}]", nameof(tokens));
        long n = tokens.shape[0];
        if (n < codes) throw new ArgumentException($"k-means needs at least K = {codes} tokens, got {n}", nameof(tokens));
        using var outer = NewDisposeScope();
        using var _ = no_grad();
        var x = tokens.to(float32);
        var centres = x.index_select(0, randperm(n, generator: generator).narrow(0, 0, codes)).clone();   // [K, C]
        for (int it = 0; it < iterations; it++)
        {
            using var scope = NewDisposeScope();
            var assign = Nearest(x, centres);                                                        // [N]
            var sums = zeros(codes, x.shape[1]).index_add_(0, assign, x, 1);                           // [K, C]
            var counts = zeros(codes).index_add_(0, assign, ones(n), 1);                              // [K]
            var next = where(counts.gt(0).unsqueeze(1), sums / counts.clamp_min(1).unsqueeze(1), centres);
            var empty = counts.eq(0).nonzero().flatten();
            if (empty.shape[0] > 0)
            {
                var far = (x - next.index_select(0, assign)).square().sum(1).topk((int)empty.shape[0]).indexes;   // farthest tokens
                next.index_copy_(0, empty, x.index_select(0, far));
            }
            centres = next.MoveToOuterDisposeScope();
        }
        return centres.MoveToOuterDisposeScope();
    }
}
