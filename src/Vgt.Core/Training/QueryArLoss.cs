using TorchSharp;
using Vgt.Models.FlowHead;
using Vgt.Models.QueryAr;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// The VGT-AR training loss step (reference §8.2): random-order teacher-forced QueryAR over
/// [text, &lt;img&gt;, q_π0, l_π0, q_π1, l_π1, …] with causal + padding attention and position ids cumsum(mask) − 1,
/// hidden states at the query slots un-shuffled, image_out_projector, then the flow-matching loss (+ REPA).
/// </summary>
public static class QueryArLoss
{
    /// <summary>The target id that the plan loss skips (as PyTorch's ignore_index).</summary>
    public const long IgnoreTarget = -100;

    /// <summary>
    /// latents [B, C, h·p, w·p] (channel-normed AE latents); promptIds [B, T] int64 (right-padded);
    /// promptMask [B, T] bool (true = real token). Random draws from <paramref name="generator"/>, in this order:
    /// permutation(s), noise ε, logit-normal u (each skipped when the options fix it).
    /// </summary>
    public static QueryArLossResult Compute(QueryArModel model, Tensor latents, Tensor promptIds, Tensor promptMask,
        Generator generator, QueryArLossOptions options)
    {
        var cfg = model.Config;
        int p = cfg.LatentPatchSize;
        Check(cfg, latents, promptIds, promptMask, options);
        long b = latents.shape[0], d = model.Dim;
        int h = (int)latents.shape[2] / p, w = (int)latents.shape[3] / p, l = h * w;

        var x = LatentPatchify.Patchify(latents.to(float32), p);                      // [B, L, C·p²]
        var (q, pos) = model.QueryTokens(h, w);                                        // [1, L, D] each
        var g = model.LatentTokens(x, pos);                                            // [B, L, D]
        var perm = Permutation(options, b, l, generator);                              // [B, L]
        var index = perm.unsqueeze(-1).expand(b, l, d);
        var qs = q.expand(b, l, d).gather(1, index);                                   // [B, L, D] shuffled
        var gs = g.gather(1, index);
        var seq = stack([qs, gs], 2).reshape(b, 2 * l, d);                             // [q, l, q, l, …]

        var text = model.EmbedText(promptIds);                                         // [B, T, D]
        var img = model.ImageStartEmbedding(options.ImageStartIds, b);                 // [B, n, D]
        var embeds = cat([text, img, seq], 1);                                         // [B, T + n + 2L, D]
        var mask = cat([promptMask.to(@bool), ones(b, img.shape[1] + 2 * l, dtype: @bool)], 1);
        var positions = (mask.to(int64).cumsum(1) - 1).clamp_min(0);                 // pads repeat the last position
        var hidden = model.Decoder.Forward(embeds, positions, mask);                   // [B, S, D], causal + padding

        var imageHidden = hidden.narrow(1, hidden.shape[1] - 2 * l, 2 * l);            // [B, 2L, D]
        var atQueries = imageHidden.view(b, l, 2, d).select(2, 0);                     // [B, L, D] (even offsets)
        var raster = atQueries.gather(1, perm.argsort(1).unsqueeze(-1).expand(b, l, d)); // un-shuffle
        var c = model.Conditions(raster).reshape(b * l, d);                            // [B·L, D]
        var target = x.reshape(b * l, cfg.TokenDim);                                   // [B·L, C·p²]
        var headCond = c;
        Tensor? codeLoss = null, codeAccuracy = null;
        if (model.Codes is { } codes)                                                  // teacher-forced code, then the flow head given it
        {
            var k = codes.Assign(target);                                              // [B·L]
            var logits = codes.Logits(c);                                              // [B·L, K]
            codeLoss = nn.functional.cross_entropy(logits, k);
            using (no_grad()) codeAccuracy = logits.argmax(1).eq(k).to(float32).mean();
            headCond = codes.Condition(c, k);
        }
        var repaTarget = RepaTarget(cfg, model, options, b * l);
        int m = options.HeadBatchMul;                                                  // MAR's diffusion_batch_mul
        var (cm, targetM) = m == 1 ? (headCond, target) : (headCond.repeat(m, 1), target.repeat(m, 1)); // [m·B·L, ·]
        if (m > 1 && repaTarget is not null) repaTarget = repaTarget.repeat(m, 1);

        var noise = options.FixedNoise?.to(float32) ?? randn(targetM.shape, dtype: float32, generator: generator);
        var t = options.FixedT?.to(float32)
                ?? FlowTime.FromNormal(randn(new[] { m * b * l }, dtype: float32, generator: generator), cfg.Head.Timeshift);
        var flow = model.Head.LossAt(targetM, cm, t, noise, null, repaTarget);
        if (repaTarget is not null && flow.RepaLoss is null)
            throw new InvalidOperationException("a REPA target was given but the head produced no REPA features (put the model in training mode)");
        var total = flow.RepaLoss is { } r ? flow.Loss + cfg.RepaLossWeight * r : flow.Loss;
        if (codeLoss is not null) total = total + cfg.TokenCodeLossWeight * codeLoss;
        Tensor? planLoss = null, planAccuracy = null;
        if (options.PlanTargets is { } planTargets)
        {
            (planLoss, planAccuracy) = PlanLoss(model, hidden.narrow(1, 0, promptIds.shape[1]), planTargets);
            total = total + cfg.Plan!.LossWeight * planLoss;
        }
        return new QueryArLossResult(total, flow.Loss, flow.RepaLoss, perm, c, t, codeLoss, codeAccuracy, planLoss, planAccuracy);
    }

    /// <summary>
    /// LM cross-entropy of the layout plan: textHidden [B, T, D] (the final-normed hidden states of the prompt
    /// positions), targets [B, T] (<see cref="IgnoreTarget"/> where nothing is predicted); logits from the tied embedding.
    /// </summary>
    internal static (Tensor Loss, Tensor Accuracy) PlanLoss(QueryArModel model, Tensor textHidden, Tensor targets)
    {
        var flat = targets.reshape(-1);                                                  // [B·T]
        var at = flat.ne(IgnoreTarget).nonzero().squeeze(1);                            // [M] predicted positions
        if (at.shape[0] == 0) return (zeros([], dtype: float32) * textHidden.sum(), zeros([], dtype: float32));   // every row unconditional
        var h = textHidden.reshape(-1, textHidden.shape[2]).index_select(0, at);        // [M, D]
        var y = flat.index_select(0, at);                                                // [M]
        var logits = nn.functional.linear(h, model.Decoder.EmbedTokens.Weight);          // [M, V] (tied lm_head)
        var loss = nn.functional.cross_entropy(logits, y);
        Tensor accuracy;
        using (no_grad()) accuracy = logits.argmax(1).eq(y).to(float32).mean();
        return (loss, accuracy);
    }

    internal static Tensor Permutation(QueryArLossOptions o, long b, int l, Generator generator)
    {
        if (o.FixedPermutation is { } f)
        {
            var rows = f.dim() == 1 ? f.unsqueeze(0).expand(b, l) : f;
            if (rows.dim() != 2 || rows.shape[0] != b || rows.shape[1] != l)
                throw new ArgumentException($"fixed permutation must be [L={l}] or [B={b}, L={l}], got [{string.Join(",", f.shape)}]");
            var sorted = rows.to(int64).sort(1).Values;
            if (!sorted.eq(arange(l, dtype: int64).unsqueeze(0)).all().item<bool>())
                throw new ArgumentException($"fixed permutation rows must each be a permutation of 0 … {l - 1}");
            return rows.to(int64).contiguous();
        }
        long drawn = o.Permutation == PermutationMode.PerBatch ? 1 : b;
        var perms = stack(Enumerable.Range(0, (int)drawn).Select(_ => randperm(l, generator: generator)).ToArray(), 0);   // [drawn, L]
        if (o.RasterFraction > 0)                                                        // no extra draw at 0: old runs replay
        {
            var raster = rand(drawn, generator: generator).lt(o.RasterFraction).unsqueeze(1);   // [drawn, 1]
            perms = where(raster, arange(l, dtype: int64).unsqueeze(0), perms);
        }
        return perms.expand(b, l).contiguous();
    }

    private static Tensor? RepaTarget(QueryArConfig cfg, QueryArModel model, QueryArLossOptions o, long rows)
    {
        if (cfg.RepaLossWeight == 0 || o.RepaTarget is null) return null;
        var t = o.RepaTarget.dim() == 3 ? o.RepaTarget.reshape(-1, o.RepaTarget.shape[2]) : o.RepaTarget;
        int f = cfg.Head.Repa!.FeatureDim;
        if (t.dim() != 2 || t.shape[0] != rows || t.shape[1] != f)
            throw new ArgumentException($"REPA target must be [B·L={rows}, F={f}] or [B, L, F], got [{string.Join(",", o.RepaTarget.shape)}]");
        return t;
    }

    private static void Check(QueryArConfig cfg, Tensor latents, Tensor ids, Tensor mask, QueryArLossOptions o)
    {
        int p = cfg.LatentPatchSize;
        if (latents.dim() != 4 || latents.shape[1] != cfg.LatentChannels)
            throw new ArgumentException($"latents must be [B, C={cfg.LatentChannels}, h, w], got [{string.Join(",", latents.shape)}]", nameof(latents));
        if (latents.shape[2] % p != 0 || latents.shape[3] % p != 0)
            throw new ArgumentException($"latent size {latents.shape[2]}×{latents.shape[3]} is not a multiple of the patch size {p}", nameof(latents));
        if (latents.shape[2] / p > cfg.MetaqueryMaxH || latents.shape[3] / p > cfg.MetaqueryMaxW)
            throw new ArgumentException($"latent grid {latents.shape[2] / p}×{latents.shape[3] / p} exceeds the metaquery grid {cfg.MetaqueryMaxH}×{cfg.MetaqueryMaxW}", nameof(latents));
        if (ids.dim() != 2 || ids.shape[0] != latents.shape[0])
            throw new ArgumentException($"prompt ids must be [B={latents.shape[0]}, T], got [{string.Join(",", ids.shape)}]", nameof(ids));
        if (!mask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"prompt mask must match the ids [{string.Join(",", ids.shape)}], got [{string.Join(",", mask.shape)}]", nameof(mask));
        if (ids.shape[1] > cfg.MaxPromptTokens)
            throw new ArgumentException($"prompt length {ids.shape[1]} exceeds max_prompt_tokens = {cfg.MaxPromptTokens}; truncate with QueryArPrompts", nameof(ids));
        if (o.ImageStartIds.Count == 0) throw new ArgumentException("ImageStartIds is empty", nameof(o));
        if (o.HeadBatchMul < 1) throw new ArgumentException($"HeadBatchMul must be ≥ 1, got {o.HeadBatchMul}", nameof(o));
        if (o.PlanTargets is { } pt)
        {
            if (cfg.Plan is null) throw new ArgumentException("plan targets were given but the model has no plan (config plan)", nameof(o));
            if (!pt.shape.SequenceEqual(ids.shape))
                throw new ArgumentException($"plan targets must match the prompt ids [{string.Join(",", ids.shape)}], got [{string.Join(",", pt.shape)}]", nameof(o));
        }
    }
}
