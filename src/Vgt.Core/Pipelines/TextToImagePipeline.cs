using System.Diagnostics;
using Vgt.Logging;
using Vgt.Models.QueryAr;
using Vgt.Runtime;
using Vgt.Sampling;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// Text → image with VGT-AR (§9): validate, build the prompt batch, run <see cref="QueryArDecodingLoop"/>,
/// unpatchify and decode. A CLI is a thin wrapper around <see cref="Generate"/>.
/// </summary>
public sealed class TextToImagePipeline
{
    private readonly QueryArModel model;
    private readonly Qwen2Tokenizer tokenizer;
    private readonly ILatentDecoder decoder;
    private readonly IProgressFactory progress;

    /// <summary>Token ids of the image-start marker (config prompts.image_start, e.g. <c>&lt;img&gt;</c>).</summary>
    public IReadOnlyList<int> ImageStartIds { get; }

    public TextToImagePipeline(QueryArModel model, Qwen2Tokenizer tokenizer, ILatentDecoder decoder, IProgressFactory? progress = null)
    {
        (this.model, this.tokenizer, this.decoder) = (model, tokenizer, decoder);
        this.progress = progress ?? NullProgress.Instance;
        if (decoder.LatentChannels != model.Config.LatentChannels)
            throw new ArgumentException($"the decoder takes {decoder.LatentChannels} latent channels, the model makes {model.Config.LatentChannels}", nameof(decoder));
        if (decoder.Stride < 1) throw new ArgumentException($"decoder stride must be >= 1, got {decoder.Stride}", nameof(decoder));
        if (tokenizer.VocabSize > model.Config.Llm.VocabSize)
            throw new ArgumentException($"the tokenizer has {tokenizer.VocabSize} ids, the model's embedding {model.Config.Llm.VocabSize} rows", nameof(tokenizer));
        ImageStartIds = tokenizer.Encode(model.Config.Prompts.ImageStart);
        if (ImageStartIds.Count == 0) throw new ArgumentException($"'{model.Config.Prompts.ImageStart}' encodes to no tokens", nameof(tokenizer));
    }

    /// <summary>Pixels per token along each side: decoder stride × latent patch size.</summary>
    public int PixelStride => decoder.Stride * model.Config.LatentPatchSize;

    public GenerationResult Generate(GenerationRequest request)
    {
        var total = Stopwatch.StartNew();
        var (h, w) = CheckRequest(request);
        int tokens = h * w;
        bool guidance = request.Cfg != 1.0;
        var cfg = model.Config;

        var clock = Stopwatch.StartNew();
        var batch = PromptBatch.Build(tokenizer, cfg.Prompts, request.Prompts, request.Negative, request.ImagesPerPrompt, guidance, cfg.PromptTokenLimit,
            cfg.Plan is null ? "max_prompt_tokens" : "max_prompt_tokens − plan.max_tokens");
        var tokenizeTime = clock.Elapsed;
        var seed = new VgtSeed(request.Seed);
        IReadOnlyList<string>? plans = null;
        model.eval();
        clock.Restart();
        if (cfg.Plan is { } planConfig) (batch, plans) = WithPlans(batch, request, planConfig, seed);
        var planTime = cfg.Plan is null ? TimeSpan.Zero : clock.Elapsed;
        bool threeTokensPerPosition = request.Mode == DecodingMode.ReferenceCompat && request.ParallelK > 1;
        long needed = batch.Length + ImageStartIds.Count + (threeTokensPerPosition ? 3L : 2L) * tokens;
        if (needed > cfg.Llm.MaxPositionEmbeddings)
            throw new ArgumentException($"prompt ({batch.Length} tokens) plus {tokens} image positions need {needed} positions; the LLM's max_position_embeddings is {cfg.Llm.MaxPositionEmbeddings}");

        var schedule = Schedule(request, tokens, seed);
        var settings = new DecodingSettings
        {
            Schedule = schedule,
            Cfg = CfgSchedule.Create(request.CfgSchedule, request.Cfg),
            Sampler = request.Sampler == SamplerKind.EulerMaruyama ? new EulerMaruyamaSampler { LastStepSize = request.LastStepSize, Temperature = request.Temperature, Interval = request.GuidanceInterval }
                : new EulerOdeSampler { Temperature = request.Temperature, Interval = request.GuidanceInterval },
            Steps = request.Steps,
            Mode = request.Mode,
            Guidance = guidance,
            ParallelK = request.ParallelK,
            Known = request.Known,
            CodeCfg = request.CodeCfg,
            CodeNoise = model.Codes is null ? null : new GeneratorNoise(seed.TorchGenerator("codes")),   // its own stream: x₀ and the SDE draws stay as without codes
        };
        var initial = seed.TorchGenerator("noise");
        var steps = seed.TorchGenerator("sampling");
        Func<int, INoiseSource> noiseFor = request.Noise is { } fixedNoise ? _ => fixedNoise : _ => new StreamNoise(initial, steps);

        model.eval();
        using var scope = NewDisposeScope();
        using var ids = tensor(batch.IdsAsInt64(), [batch.Count, batch.Length]);
        using var mask = tensor(batch.Mask, [batch.Count, batch.Length]);
        DecodingOutput decoded;
        using (var reporter = progress.Start("generate", schedule.GroupCount))
            decoded = QueryArDecodingLoop.Run(model, ids, mask, ImageStartIds, h, w, settings, noiseFor, reporter);

        clock.Restart();
        var latents = LatentPatchify.Unpatchify(decoded.Tokens, h, w, cfg.LatentPatchSize);  // [N, C, h·p, w·p]
        Tensor images;
        using (no_grad()) images = decoder.Decode(latents);
        CheckImages(images, latents.shape[0], request.Size);
        var decodeTime = clock.Elapsed;
        var timings = new GenerationTimings(tokenizeTime, decoded.Llm, decoded.Head, decodeTime, total.Elapsed, planTime);
        return new GenerationResult(images.MoveToOuterDisposeScope(), latents.MoveToOuterDisposeScope(), schedule.Order, timings, plans);
    }

    /// <summary>
    /// The batch with each conditional row's layout plan appended (written by the model with the seed's "plan" stream, row
    /// after row, or the request's <see cref="GenerationRequest.Layout"/>); unconditional rows are left as they are.
    /// </summary>
    private (TokenBatch Batch, IReadOnlyList<string> Plans) WithPlans(TokenBatch batch, GenerationRequest request, LayoutPlanConfig plan, VgtSeed seed)
    {
        if (ImageStartIds.Count != 1)
            throw new InvalidOperationException($"a layout plan needs a one-token image-start marker; '{model.Config.Prompts.ImageStart}' is {ImageStartIds.Count} tokens");
        int conditional = request.Prompts.Count * request.ImagesPerPrompt;
        int[]? given = request.Layout is { } layout ? tokenizer.Encode(layout) : null;
        var rows = Enumerable.Range(0, batch.Count).Select(batch.Row).ToList();
        var texts = new List<string>(conditional);
        using var generator = seed.TorchGenerator("plan");
        for (int r = 0; r < conditional; r++)
        {
            var ids = given ?? LayoutPlanner.Plan(model, rows[r], ImageStartIds[0], plan.MaxTokens, request.PlanTemperature ?? plan.Temperature, generator);
            texts.Add(tokenizer.Decode(ids));
            rows[r] = [.. rows[r], .. ids];
        }
        return (TokenBatch.FromRows(rows, tokenizer.PadId), texts);           // PromptBatch pads with the same id
    }

    /// <summary>Checks everything that does not need the tokenizer; returns the token grid (h, w).</summary>
    private (int H, int W) CheckRequest(GenerationRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.Prompts is null || r.Prompts.Count == 0) throw new ArgumentException("at least one prompt is needed", nameof(r));
        if (r.ImagesPerPrompt < 1) throw new ArgumentOutOfRangeException(nameof(r), r.ImagesPerPrompt, "images per prompt must be >= 1");
        var (height, width) = r.Size;
        int stride = PixelStride;
        if (height < 1 || width < 1 || height % stride != 0 || width % stride != 0)
            throw new ArgumentOutOfRangeException(nameof(r), r.Size, $"size {height}×{width} must be positive multiples of the stride {stride} (decoder stride × latent patch size)");
        int h = height / stride, w = width / stride;
        var cfg = model.Config;
        if (h > cfg.MetaqueryMaxH || w > cfg.MetaqueryMaxW)
            throw new ArgumentOutOfRangeException(nameof(r), r.Size,
                $"token grid {h}×{w} exceeds the metaquery grid {cfg.MetaqueryMaxH}×{cfg.MetaqueryMaxW} (largest image {cfg.MetaqueryMaxH * stride}×{cfg.MetaqueryMaxW * stride} px)");
        int tokens = h * w;
        if (r.ParallelK < 1 || r.ParallelK > tokens)
            throw new ArgumentOutOfRangeException(nameof(r), r.ParallelK, $"parallel K must be in [1, L = {tokens}] (tokens of a {h}×{w} grid)");
        if (!double.IsFinite(r.Cfg)) throw new ArgumentOutOfRangeException(nameof(r), r.Cfg, "cfg must be a finite number");
        if (r.CodeCfg is { } cc && !double.IsFinite(cc)) throw new ArgumentOutOfRangeException(nameof(r), r.CodeCfg, "code cfg must be a finite number");
        if (cfg.Plan is null && (r.Layout is not null || r.PlanTemperature is not null))
            throw new ArgumentException("this model writes no layout plan (its config has no plan); drop --layout / --plan-temperature", nameof(r));
        if (r.Layout is { } layout && (string.IsNullOrWhiteSpace(layout) || tokenizer.Encode(layout).Length > cfg.Plan!.MaxTokens))
            throw new ArgumentException($"the layout must be non-empty text of at most plan.max_tokens = {cfg.Plan!.MaxTokens} tokens", nameof(r));
        if (r.PlanTemperature is { } planT && !(planT >= 0 && double.IsFinite(planT)))
            throw new ArgumentOutOfRangeException(nameof(r), r.PlanTemperature, "the plan temperature must be a finite number >= 0 (0 = greedy)");
        int minSteps = r.Sampler == SamplerKind.EulerMaruyama ? 2 : 1;
        if (r.Steps < minSteps) throw new ArgumentOutOfRangeException(nameof(r), r.Steps, $"steps must be >= {minSteps} for {r.Sampler}");
        SamplerTemperature.Check(r.Temperature);
        r.GuidanceInterval.Validate();
        if (r.Sampler == SamplerKind.EulerMaruyama && !(r.LastStepSize > 0 && r.LastStepSize < 1))
            throw new ArgumentOutOfRangeException(nameof(r), r.LastStepSize, "last step size must be in (0, 1)");
        if (r.CustomOrder is { } order && (order.Count != tokens || order.Distinct().Count() != tokens || order.Any(i => i < 0 || i >= tokens)))
            throw new ArgumentException($"custom order must be a permutation of 0 … {tokens - 1}", nameof(r));
        r.Known?.Check((long)r.Prompts.Count * r.ImagesPerPrompt, tokens, model.Config.TokenDim);
        return (h, w);
    }

    private static GenerationSchedule Schedule(GenerationRequest r, int tokens, VgtSeed seed)
    {
        var schedule = BaseSchedule(r, tokens, seed);
        return r.Known is { } known ? known.Reorder(schedule.Order, r.ParallelK) : schedule;
    }

    private static GenerationSchedule BaseSchedule(GenerationRequest r, int tokens, VgtSeed seed)
    {
        if (r.CustomOrder is { } custom) return GenerationSchedule.FromOrder(custom.ToArray(), r.ParallelK, r.GroupSchedule);
        return r.Order == GenerationOrderKind.Raster
            ? GenerationSchedule.Raster(tokens, r.ParallelK, r.GroupSchedule)
            : GenerationSchedule.Seeded(tokens, r.ParallelK, seed, r.GroupSchedule);
    }

    private void CheckImages(Tensor images, long n, (int Height, int Width) size)
    {
        if (images.dim() != 4 || images.shape[0] != n || images.shape[1] != 3 || images.shape[2] != size.Height || images.shape[3] != size.Width)
            throw new InvalidOperationException($"the decoder returned [{string.Join(",", images.shape)}], expected [{n}, 3, {size.Height}, {size.Width}]");
    }
}
