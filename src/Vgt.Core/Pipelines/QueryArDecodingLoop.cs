using System.Diagnostics;
using TorchSharp;
using Vgt.Logging;
using Vgt.Models.QueryAr;
using Vgt.Sampling;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>Settings of one decoding run (all validated by the pipeline).</summary>
public sealed record DecodingSettings
{
    public required GenerationSchedule Schedule { get; init; }
    public required CfgSchedule Cfg { get; init; }
    public required IFlowSampler Sampler { get; init; }
    /// <summary>Head network evaluations per group.</summary>
    public required int Steps { get; init; }
    public DecodingMode Mode { get; init; } = DecodingMode.TrainingConsistent;
    /// <summary>Rows are [cond…, uncond…] (CFG); false = cond rows only.</summary>
    public bool Guidance { get; init; } = true;
    /// <summary>The requested group size K (the reference's acc_ratio; K &gt; 1 switches its "multi" feeding).</summary>
    public int ParallelK { get; init; } = 1;
    /// <summary>Tokens given in advance: a group made only of given positions is fed, not sampled.</summary>
    public KnownTokens? Known { get; init; }
    /// <summary>CFG scale on the token-code logits (models with token_codes); null = the group's flow CFG scale.</summary>
    public double? CodeCfg { get; init; }
    /// <summary>Where the token-code draws come from (models with token_codes); null = the group's noise source.</summary>
    public INoiseSource? CodeNoise { get; init; }
}

/// <summary>Latent tokens [N, L, C·p²] in raster order (channel-normed), and the time spent in the LLM and the head.</summary>
public sealed record DecodingOutput(Tensor Tokens, TimeSpan Llm, TimeSpan Head);

/// <summary>
/// The QueryAR decoding loop (§9.3 steps 2–10 up to the scatter to raster order): prefill, then one cached LLM call
/// per group, head sampling with the group's CFG scale, channel LayerNorm, feed-back through
/// <see cref="GroupFeeder"/> (mode-dependent).
/// </summary>
public static class QueryArDecodingLoop
{
    /// <summary>
    /// ids [R, T] int64 and mask [R, T] bool: with guidance R = 2N rows [cond₁…cond_N, uncond₁…uncond_N], else R = N.
    /// h × w = token grid. <paramref name="noiseFor"/>(k) gives the noise source for group k (x₀ first, then the
    /// sampler's per-step draws).
    /// </summary>
    public static DecodingOutput Run(QueryArModel model, Tensor ids, Tensor mask, IReadOnlyList<int> imageStartIds,
        int h, int w, DecodingSettings s, Func<int, INoiseSource> noiseFor, IProgressReporter? progress = null)
    {
        int branches = s.Guidance ? 2 : 1;
        long rows = ids.shape[0], images = rows / branches, d = model.Dim, c = model.Config.TokenDim;
        int tokens = h * w;
        if (rows % branches != 0) throw new ArgumentException($"guidance needs an even number of rows, got {rows}", nameof(ids));
        if (s.Schedule.Tokens != tokens) throw new ArgumentException($"schedule covers {s.Schedule.Tokens} tokens, the grid has {tokens}", nameof(s));
        var layout = s.Guidance ? GuidanceLayout.CondThenUncond : GuidanceLayout.CondOnly;
        var llmClock = new Stopwatch();
        var headClock = new Stopwatch();

        using var outer = NewDisposeScope();
        using var _ = no_grad();
        var result = zeros(images, tokens, c);                                           // [N, L, C·p²] raster
        var (queries, pos) = model.QueryTokens(h, w);                                    // [1, L, D]
        using var feeder = GroupFeeder.Create(s.Mode, model, queries, pos, rows, s.ParallelK > 1);
        using var cache = model.Decoder.NewCache();
        Tensor? fedBack = null;                                                          // [R, K, D] latent tokens of the last group
        for (int k = 0; k < s.Schedule.GroupCount; k++)
        {
            using var scope = NewDisposeScope();
            var group = s.Schedule.Groups[k];
            llmClock.Start();
            var input = k == 0
                ? feeder.Prefill(model.EmbedText(ids), mask.to(@bool), model.ImageStartEmbedding(imageStartIds, rows), group)
                : feeder.Next(s.Schedule.Groups[k - 1], fedBack!, group);
            var hidden = model.Decoder.ForwardAllowed(input.Embeds, input.Positions, input.Allowed, cache);
            llmClock.Stop();

            var index = tensor(group.Select(i => (long)i).ToArray());
            Tensor latents;                                                                  // [N, K, C·p²]
            if (GivenGroup(s.Known, group))
                latents = s.Known!.Tokens.index_select(1, index);                            // fed as given, nothing sampled
            else
            {
                llmClock.Start();
                var atQueries = hidden.narrow(1, hidden.shape[1] - group.Length, group.Length); // [R, K, D]
                var cond = model.Conditions(atQueries).reshape(rows * group.Length, d);         // cond block, then uncond block
                llmClock.Stop();
                headClock.Start();
                double scale = s.Cfg.ScaleFor(s.Schedule.Progress(k));
                var noise = noiseFor(k);
                if (model.Codes is { } codes)
                    cond = CodedConditions(codes, cond, branches, s.CodeCfg ?? scale, s.CodeNoise ?? noise);                // [R·K, D]
                var sample = s.Sampler.Sample(model.Head.Net, cond, scale, s.Steps, noise, layout); // [N·K, C·p²]
                latents = QueryArModel.ChannelLayerNorm(sample).reshape(images, group.Length, c);
                headClock.Stop();
            }

            result.index_copy_(1, index, latents);
            var posOfGroup = pos.index_select(1, index);                                      // [1, K, D]
            var back = model.LatentTokens(latents.repeat(branches, 1, 1), posOfGroup);        // same latents for both branches
            fedBack?.Dispose();
            fedBack = back.DetachFromDisposeScope();
            progress?.Advance(1, $"group {k + 1}/{s.Schedule.GroupCount}");
        }
        fedBack?.Dispose();
        return new DecodingOutput(result.MoveToOuterDisposeScope(), llmClock.Elapsed, headClock.Elapsed);
    }

    /// <summary>
    /// Samples one token code per position and adds its embedding to both branches' conditions. cond [m·M, D] (cond
    /// block then uncond block when m = 2) → [m·M, D]. Logits are guided as l_u + cfg·(l_c − l_u); the code is drawn by
    /// Gumbel-max from <paramref name="noise"/> (standard normals mapped through Φ), so one seed still fixes everything.
    /// </summary>
    private static Tensor CodedConditions(TokenCodebook codes, Tensor cond, int branches, double cfg, INoiseSource noise)
    {
        long m = cond.shape[0] / branches;
        var logits = codes.Logits(cond);                                                      // [m·M, K]
        if (branches == 2) logits = GuidedVelocity.Combine(logits, cfg);                     // [M, K]
        var u = (noise.Next([m, codes.Codes]) / Math.Sqrt(2)).erf().add(1).mul(0.5).clamp(1e-7, 1 - 1e-7);   // Φ(z) ~ U(0, 1)
        var picked = (logits - (-u.log()).log()).argmax(1);                                   // [M] Gumbel-max
        var both = branches == 2 ? picked.repeat(2) : picked;                                 // same code for both branches
        return codes.Condition(cond, both);
    }

    /// <summary>True when every position of the group is given; a group mixing given and free positions is a caller bug.</summary>
    private static bool GivenGroup(KnownTokens? known, int[] group)
    {
        if (known is null) return false;
        int given = group.Count(i => known.Given[i]);
        if (given != 0 && given != group.Length)
            throw new ArgumentException($"a decoding group mixes {given} given and {group.Length - given} free positions; schedule given tokens with KnownTokens.Reorder");
        return given == group.Length;
    }
}
