using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Logging;
using Vgt.Models.InternVl;
using Vgt.Models.QueryAr;
using Vgt.Pipelines;
using Vgt.Runtime;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>What one finished (or stopped) training call did.</summary>
public sealed record QueryArTrainSummary(long StartStep, long EndStep, double LastLoss, QueryArValidation? LastValidation, TimeSpan Elapsed, double TrainSeconds);

/// <summary>Validation flow losses of one evaluation (see <see cref="QueryArTrainer.ValidationLoss"/>).</summary>
/// <param name="RandomOrder">One random order per sample (comparable across configs; the reference trains these orders).</param>
/// <param name="RasterOrder">Raster order (what decoding at parallel 1 uses).</param>
public sealed record QueryArValidation(double RandomOrder, double RasterOrder);

/// <summary>
/// VGT-AR training on Shapes World (reference §8): a pool of train-split scenes, their latents from the frozen AE
/// (cached once per pool, keyed by scene seed), captions with 10 % CFG dropout, random-order teacher-forced QueryAR
/// loss (<see cref="QueryArLoss"/>), AdamW with the reference decay rule, warm-up + cosine, gradient clipping, EMA,
/// and resumable checkpoints. Every random draw of step s comes from streams named after s (data order per epoch,
/// caption dropout, permutation, noise, t), so a resumed run reproduces the uninterrupted one bit for bit.
/// With <c>understanding.every = n</c> every n-th step also adds an understanding LM loss (<see cref="QueryArUnderstanding"/>).
/// Run folder: checkpoints/, metrics.jsonl, latents.safetensors, config.json (and RUN/vlm from <see cref="ExportVlm"/>).
/// </summary>
public sealed class QueryArTrainer : IDisposable
{
    private readonly QueryArTrainConfig config;
    private readonly string runDir;
    private readonly IProgressFactory progress;
    private readonly TextWriter log;
    private readonly VgtSeed seed;
    private readonly ShapesDataset dataset;
    private readonly QueryArPrompts prompts;
    private readonly QueryArLossOptions lossOptions;
    private readonly WarmupCosineSchedule schedule;
    private readonly AdamW optimizer;
    private readonly List<Parameter> trainable;
    private readonly List<Parameter> clipped;            // trainable + the cell probe's
    private readonly int tokenGrid;                      // g: the g × g token grid of a training image
    private readonly CellProbe? cellProbe;
    private readonly AdamW? probeOptimizer;
    private readonly long[] pool;
    private Tensor? cache;                 // [N, C, h, w] latents of the pool, or null (encode per batch)
    private (long Epoch, int[] Order)? epochOrder;

    /// <summary>Side of one image token in the scene's 64-unit canvas coordinates (the units of object boxes).</summary>
    private int TokenCanvasPixels => ShapesVocabulary.CanvasSize / tokenGrid;

    public QueryArModel Model { get; }
    public Ema Ema { get; }
    public Qwen2Tokenizer Tokenizer { get; }
    public ILatentAutoencoder Autoencoder { get; }
    public string AeDirectory { get; }
    public TrainingCheckpoints Checkpoints { get; }
    public QueryArTrainConfig Config => config;

    /// <summary>The understanding mix (null when understanding.every = 0).</summary>
    public QueryArUnderstanding? Understanding { get; }

    /// <summary>(LM loss, token accuracy) of the last step's understanding batch; null when that step had none.</summary>
    public (double Loss, double Accuracy)? LastUnderstanding { get; private set; }

    /// <summary>(loss, object-cell accuracy) of the last step's cell probe; null without the probe.</summary>
    public (double Loss, double Accuracy)? LastCellProbe { get; private set; }

    /// <summary>(cross-entropy, accuracy) of the last step's token codes; null without codes.</summary>
    public (double Loss, double Accuracy)? LastCodes { get; private set; }

    /// <summary>(cross-entropy, token accuracy) of the last step's layout plans; null without a plan.</summary>
    public (double Loss, double Accuracy)? LastPlan { get; private set; }

    /// <summary>Steps completed (the next step to run).</summary>
    public long Step { get; private set; }

    /// <summary>Seconds spent in training steps over all sessions of this run.</summary>
    public double TrainSeconds { get; private set; }

    /// <summary>Set by the caller (e.g. Ctrl-C) to stop after the current step with a checkpoint.</summary>
    public CancellationToken Cancellation { get; init; }

    public QueryArTrainer(QueryArTrainConfig config, string runDirectory, IProgressFactory? progress = null, TextWriter? log = null)
    {
        config.Validate();
        this.config = config;
        runDir = runDirectory;
        this.progress = progress ?? NullProgress.Instance;
        this.log = log ?? TextWriter.Null;
        seed = new VgtSeed(config.Seed);
        if (config.Run.Threads > 0) torch.set_num_threads(config.Run.Threads);

        var tokDir = ModelCatalog.Resolve(config.Tokenizer ?? config.InitFrom!);
        Tokenizer = Qwen2Tokenizer.Load(tokDir);
        AeDirectory = ResolveAe(config.Ae);
        Autoencoder = LatentAutoencoders.Load(AeDirectory);
        var mc = config.Model;
        if (Autoencoder.LatentChannels != mc.LatentChannels)
            throw new ConfigValidationException("model.latent_channels", $"is {mc.LatentChannels}, but the AE '{AeDirectory}' makes {Autoencoder.LatentChannels} channels");
        int tokenStride = Autoencoder.Stride * mc.LatentPatchSize;
        if (config.Data.ImageSize % tokenStride != 0)
            throw new ConfigValidationException("data.image_size", $"must be a multiple of the AE stride × latent patch size = {tokenStride}, got {config.Data.ImageSize}");
        int grid = config.Data.ImageSize / tokenStride;
        if (grid > mc.MetaqueryMaxH || grid > mc.MetaqueryMaxW)
            throw new ConfigValidationException("data.image_size", $"gives a {grid}×{grid} token grid, larger than the metaquery grid {mc.MetaqueryMaxH}×{mc.MetaqueryMaxW}");
        if (Tokenizer.VocabSize > mc.Llm.VocabSize)
            throw new ConfigValidationException("model.llm.vocab_size", $"is {mc.Llm.VocabSize}, smaller than the tokenizer's {Tokenizer.VocabSize} ids");

        Model = new QueryArModel(mc, seed.TorchGenerator("init"));
        if (config.InitFrom is { } vlm) InitLlmFromVlm(Model, ModelCatalog.Resolve(vlm), this.log);
        if (config.Understanding.Every > 0)
        {
            Understanding = new QueryArUnderstanding(ModelCatalog.Resolve(config.InitFrom!), config.Understanding, seed, Tokenizer);
            this.log.WriteLine($"understanding: every {config.Understanding.Every}th step adds {config.Understanding.LossWeight} × the LM loss of " +
                $"{config.Understanding.Images} Shapes World images (vision tower + mlp1 of {Understanding.VlmDirectory}, frozen)");
        }
        Model.train();

        prompts = new QueryArPrompts(Tokenizer, mc.Prompts, mc.PromptTokenLimit, config.Truncation);
        lossOptions = new QueryArLossOptions { ImageStartIds = prompts.ImageStartIds, Permutation = config.Permutation, RasterFraction = config.RasterFraction, HeadBatchMul = config.HeadBatchMul };
        if (mc.Plan is { } plan)
        {
            if (prompts.ImageStartIds.Length != 1)
                throw new ConfigValidationException("model.plan", $"needs a one-token image-start marker (the plan ends by predicting it); '{mc.Prompts.ImageStart}' is {prompts.ImageStartIds.Length} tokens");
            this.log.WriteLine($"layout plan: {plan.LossWeight} × the LM loss of each scene's plan (e.g. \"red square 352, blue circle 615\"), written before the image");
        }
        var o = config.Optim;
        schedule = o.Schedule();
        var named = Model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        trainable = named.Select(p => p.parameter).ToList();
        (optimizer, _) = ParameterGroups.CreateAdamW(named, DecayRule.VgtAr, o.Lr, o.WeightDecay, o.Beta1, o.Beta2, o.Eps);
        tokenGrid = grid;
        if (config.CellProbe is { } probeConfig)
        {
            using var probeGenerator = seed.TorchGenerator("cell-probe");
            cellProbe = new CellProbe(probeConfig, (int)Model.Dim, probeGenerator);
            probeOptimizer = optim.AdamW(cellProbe.parameters(), lr: o.Lr, beta1: o.Beta1, beta2: o.Beta2, eps: o.Eps, weight_decay: 0.0);
            this.log.WriteLine($"cell probe: weight {probeConfig.Weight} × the shape and colour of each token's cell, read from the flow head's condition");
        }
        clipped = cellProbe is null ? trainable : [.. trainable, .. cellProbe.parameters()];
        Ema = new Ema(Model, config.Ema.Decay, config.Ema.StartStep);
        Directory.CreateDirectory(runDir);   // only now: a launch refused above (missing AE, bad sizes) leaves no empty run folder
        Checkpoints = new TrainingCheckpoints(runDir, config.Run.KeepCheckpoints);

        dataset = new ShapesDataset(config.Data.DatasetOptions());
        pool = ScenePool(config.Data);
    }

    /// <summary>Loads the LLM of an InternVL-layout VLM directory (<c>language_model.model.*</c>) into the generator's decoder.</summary>
    public static LoadReport InitLlmFromVlm(QueryArModel model, string vlmDirectory, TextWriter? log = null)
    {
        using var ck = CheckpointReader.Open(vlmDirectory);
        var report = StateDictLoader.Load(model.Decoder, ck, new LoadOptions { Prefix = "language_model.model.", Strict = true });
        log?.WriteLine($"init: LLM from {vlmDirectory} ({report.Loaded.Count} tensors)");
        return report;
    }

    /// <summary>The first <c>scenes</c> train-split scene seeds from <c>first_scene_seed</c>.</summary>
    public static long[] ScenePool(QueryArDataConfig data)
    {
        var o = data.DatasetOptions();
        var list = new long[data.Scenes];
        int n = 0;
        for (long s = o.FirstSceneSeed; n < list.Length; s++)
            if (ShapesDataset.SplitOf(s, o.ValidationFraction, o.TestFraction) == ShapesSplit.Train) list[n++] = s;
        return list;
    }

    /// <summary>Restores the latest checkpoint of the run folder, if any; returns whether one was found.</summary>
    public bool Resume()
    {
        var latest = Checkpoints.Latest();
        if (latest is null) return false;
        var p = TrainingCheckpoints.Load(latest, Model, Optimizers(), Ema, RestoreProbe);
        var saved = ConfigJson.Deserialize<QueryArTrainConfig>(p.ConfigJson, Path.Combine(latest, "progress.json"));
        // run (threads, logging) and generation (the exported sampling defaults) do not touch the weights
        if (ConfigJson.Serialize(saved with { Run = config.Run, Generation = config.Generation }) != ConfigJson.Serialize(config with { Run = config.Run, Generation = config.Generation }))
            throw new ArgumentException($"the run folder's checkpoint {latest} was made with a different config (only the run and generation sections may change on resume)");
        Step = p.Step;
        TrainSeconds = p.Scalars.TryGetValue("train_seconds", out var t) ? t : 0;
        log.WriteLine($"resumed from {latest} at step {Step}");
        return true;
    }

    private Dictionary<string, OptimizerHelper> Optimizers()
    {
        var all = new Dictionary<string, OptimizerHelper> { ["adamw"] = optimizer };
        if (probeOptimizer is not null) all["cell-probe"] = probeOptimizer;
        return all;
    }

    /// <summary>The cell probe's weights under "cell_probe." in a checkpoint's extra tensors (null without the probe).</summary>
    private Dictionary<string, Tensor>? ProbeTensors() => cellProbe?.state_dict().ToDictionary(kv => "cell_probe." + kv.Key, kv => kv.Value);

    private void RestoreProbe(IReadOnlyDictionary<string, Tensor> saved)
    {
        if (cellProbe is null) return;
        using var noGrad = no_grad();
        foreach (var (name, p) in cellProbe.named_parameters())
            p.copy_(saved.TryGetValue("cell_probe." + name, out var t) ? t
                : throw new InvalidDataException($"the checkpoint lacks the cell probe's '{name}'"));
    }

    /// <summary>Encodes the scene pool once (or loads RUN/latents.safetensors when it matches the AE and pool).</summary>
    public void PrepareLatents()
    {
        if (!config.Data.LatentCache || cache is not null) return;
        var path = Path.Combine(runDir, "latents.safetensors");
        var meta = CacheMetadata();
        if (File.Exists(path))
        {
            using var ck = CheckpointReader.Open(path);
            if (meta.All(kv => ck.Metadata.TryGetValue(kv.Key, out var v) && v == kv.Value))
            {
                var seeds = ck.Load("scene_seeds", null);
                if (seeds.data<long>().SequenceEqual(pool))
                {
                    cache = ck.Load("latents", null).DetachFromDisposeScope();
                    log.WriteLine($"latents: {path} ({pool.Length} scenes, cached)");
                    return;
                }
            }
            log.WriteLine($"latents: {path} is for another AE or pool; re-encoding");
        }
        var clock = Stopwatch.StartNew();
        var parts = new List<Tensor>();
        const int chunk = 64;
        using (var bar = progress.Start("encode latents", pool.Length))
            for (int i = 0; i < pool.Length; i += chunk)
            {
                using var scope = NewDisposeScope();
                var z = EncodeScenes(pool.Skip(i).Take(chunk).ToArray());
                parts.Add(z.MoveToOuterDisposeScope());
                bar.Advance(Math.Min(chunk, pool.Length - i));
            }
        cache = cat(parts, 0).DetachFromDisposeScope();
        foreach (var t in parts) t.Dispose();
        var tmp = path + ".tmp";
        if (File.Exists(tmp)) File.Delete(tmp);
        using (var seeds = tensor(pool))
            SafetensorsWriter.Write(tmp, new Dictionary<string, Tensor> { ["latents"] = cache, ["scene_seeds"] = seeds }, meta);
        File.Move(tmp, path, overwrite: true);
        log.WriteLine($"latents: encoded {pool.Length} scenes in {clock.Elapsed.TotalSeconds:0.0} s → {path}");
    }

    private Dictionary<string, string> CacheMetadata() => new()
    {
        ["ae_sha256"] = Autoencoder.WeightsSha256,
        ["image_size"] = config.Data.ImageSize.ToString(CultureInfo.InvariantCulture),
        ["category_weights"] = JsonSerializer.Serialize(config.Data.CategoryWeights?.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary()),
        ["scenes"] = pool.Length.ToString(CultureInfo.InvariantCulture),
        ["first_scene_seed"] = config.Data.FirstSceneSeed.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Fits the token codes (k-means over every token of the latent pool, stream "codes") unless the model has them
    /// already (a resumed run: they are in the checkpoint). Runs before the first step; the codes stay frozen.
    /// </summary>
    private void FitCodes()
    {
        if (Model.Codes is not { } codes || codes.IsFitted) return;
        if (cache is null) throw new ConfigValidationException("model.token_codes", "needs data.latent_cache = true (the codes are fitted on the cached latents)");
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var tokens = LatentPatchify.Patchify(cache, config.Model.LatentPatchSize).reshape(-1, config.Model.TokenDim);   // [N·L, C·p²]
        codes.SetCentroids(TokenCodebook.KMeans(tokens, codes.Codes, iterations: 20, seed.TorchGenerator("codes")));
        Ema.Reset("token_codes.centroids");                                           // the average starts from the fitted codes
        log.WriteLine($"token codes: k-means K = {codes.Codes} over {tokens.shape[0]} tokens in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Renders and encodes scenes → latents [n, C, h, w].</summary>
    private Tensor EncodeScenes(IReadOnlyList<long> sceneSeeds)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var images = stack(sceneSeeds.Select(s => dataset.Get(s).ImageTensor()).ToArray());   // [n,3,H,W]
        return Autoencoder.Encode(images).MoveToOuterDisposeScope();
    }

    /// <summary>Pool indices of the batch of step <paramref name="step"/>: epoch e visits the pool in the order of stream "epoch/e".</summary>
    public int[] BatchIndices(long step)
    {
        int b = config.Optim.BatchSize, n = pool.Length;
        var result = new int[b];
        for (int j = 0; j < b; j++)
        {
            long g = step * b + j;
            long epoch = g / n;
            if (epochOrder is not { } eo || eo.Epoch != epoch)
            {
                var rng = seed.DotNetRandom($"epoch/{epoch}");
                var order = Enumerable.Range(0, n).ToArray();
                rng.Shuffle(order);
                epochOrder = eo = (epoch, order);
            }
            result[j] = eo.Order[(int)(g % n)];
        }
        return result;
    }

    /// <summary>
    /// A sample's text: its GenEval-style prompt, or with probability data.caption_probability its caption after
    /// data.caption_prefix; a caption of two objects is, with probability data.relation_caption_probability, a relation.
    /// </summary>
    internal string TextOf(ShapesScene scene, Random rng)
    {
        var data = config.Data;
        var pair = data.RasterNameOrder ? ShapesText.RasterOrderedPair(scene, TokenCanvasPixels) : null;
        if (!(data.CaptionProbability > 0 && rng.NextDouble() < data.CaptionProbability))
            return (pair, scene.Prompt.Tag) switch
            {
                ({ } p, "two_object") => ShapesPrompt.TwoObject(p.First.Shape, p.Second.Shape).Text,
                ({ } p, "color_attr") => ShapesPrompt.ColorAttr(p.First.Color, p.First.Shape, p.Second.Color, p.Second.Shape).Text,
                _ => scene.Prompt.Text,
            };
        if (data.RelationCaptionProbability > 0 && rng.NextDouble() < data.RelationCaptionProbability
            && ShapesText.RelationCaption(scene, rng) is { } relation)
            return data.CaptionPrefix + relation;
        return data.CaptionPrefix + (pair is { } q   // the caption's own two groups, in raster order instead of left to right
            ? $"{new CaptionGroup(q.First.Color, q.First.Shape, 1).Text} and {new CaptionGroup(q.Second.Color, q.Second.Shape, 1).Text}"
            : ShapesText.Caption(scene));
    }

    /// <summary>
    /// Latents [B,C,h,w], collated prompt ids / mask and the scenes for the batch of step <paramref name="step"/>.
    /// </summary>
    private (Tensor Latents, Tensor Ids, Tensor Mask, Tensor? PlanTargets, IReadOnlyList<ShapesScene> Scenes) Batch(long step)
    {
        var idx = BatchIndices(step);
        var textRng = seed.DotNetRandom($"text/{step}");
        var scenes = idx.Select(i => ShapesSceneSampler.ForSceneSeed(pool[i], config.Data.CategoryWeights)).ToList();
        var texts = scenes.Select(scene => prompts.Text(TextOf(scene, textRng), textRng, config.CaptionDropout)).ToList();   // same draws as Encode
        var rows = texts.Select(t => prompts.Truncate(Tokenizer.Encode(t))).ToList();
        var latents = cache is not null
            ? cache.index_select(0, tensor(idx.Select(i => (long)i).ToArray()))
            : EncodeScenes(idx.Select(i => pool[i]).ToArray());
        string unconditional = prompts.Templates.Unconditional();
        var (ids, mask, planTargets) = Collate(rows, scenes, texts.Select(t => t == unconditional).ToList());
        return (latents, ids, mask, planTargets, scenes);
    }

    /// <summary>
    /// Collated prompt ids and mask; with a layout plan, every conditional row also carries its scene's plan and the
    /// plan's LM targets (<see cref="LayoutPlanTargets"/>).
    /// </summary>
    private (Tensor Ids, Tensor Mask, Tensor? PlanTargets) Collate(IReadOnlyList<int[]> rows, IReadOnlyList<ShapesScene> scenes, IReadOnlyList<bool> unconditional)
    {
        if (config.Model.Plan is not { } plan)
        {
            var batch = QueryArPrompts.Collate(rows);
            return (tensor(batch.IdsAsInt64(), [batch.Count, batch.Length]), tensor(batch.Mask, [batch.Count, batch.Length]), null);
        }
        var plans = scenes.Select((scene, b) => unconditional[b] ? null : PlanIds(scene, plan)).ToList();
        var (withPlans, targets) = LayoutPlanTargets.Build(rows, plans, prompts.ImageStartIds[0]);
        return (tensor(withPlans.IdsAsInt64(), [withPlans.Count, withPlans.Length]), tensor(withPlans.Mask, [withPlans.Count, withPlans.Length]),
            tensor(targets, [withPlans.Count, withPlans.Length]));
    }

    /// <summary>A scene's layout plan ids (<see cref="ShapesLayoutPlan"/>), cut to plan.max_tokens.</summary>
    private int[] PlanIds(ShapesScene scene, LayoutPlanConfig plan)
    {
        var ids = Tokenizer.Encode(ShapesLayoutPlan.Text(scene, TokenCanvasPixels));
        return ids.Length <= plan.MaxTokens ? ids : ids[..plan.MaxTokens];
    }

    /// <summary>
    /// The frozen AE's directory. A missing path is usually the export of an AE training run that has not been run yet
    /// (configs/shapes-vgt.json reads the one configs/shapes-vgt-decoder.json writes); the catalog's error already names
    /// the working directory that relative paths are read from, and this adds what to run.
    /// </summary>
    private static string ResolveAe(string ae)
    {
        try { return ModelCatalog.Resolve(ae); }
        catch (DirectoryNotFoundException e)
        {
            throw new ConfigValidationException("ae",
                $"{e.Message} If it is the export_dir of an AE training run, run that training first (vgt train ae --config CONFIG).");
        }
    }

    /// <summary>
    /// One optimiser step (index <see cref="Step"/>); returns (generation loss, grad norm, lr). On an understanding step the
    /// gradient is that of generation loss + loss_weight × understanding loss (see <see cref="LastUnderstanding"/>).
    /// </summary>
    public (double Loss, double GradNorm, double Lr) TrainStep()
    {
        using var scope = NewDisposeScope();
        long s = Step;
        var (latents, ids, mask, planTargets, scenes) = Batch(s);
        var generator = seed.TorchGenerator($"loss/{s}");
        schedule.Apply(optimizer, s);
        if (probeOptimizer is not null) schedule.Apply(probeOptimizer, s);
        Model.train();
        optimizer.zero_grad();
        probeOptimizer?.zero_grad();
        var result = QueryArLoss.Compute(Model, latents, ids, mask, generator, lossOptions with { PlanTargets = planTargets });
        var total = result.Loss;
        LastCodes = result.CodeLoss is { } cl ? (cl.item<float>(), result.CodeAccuracy!.item<float>()) : null;
        LastPlan = result.PlanLoss is { } pl ? (pl.item<float>(), result.PlanAccuracy!.item<float>()) : null;
        LastCellProbe = null;
        if (cellProbe is not null)
        {
            var (shapeLabels, colorLabels) = CellProbe.Labels(scenes, tokenGrid);                  // [B·L] each, raster order
            var (probeLoss, probeAccuracy) = cellProbe.Loss(result.Conditions, shapeLabels, colorLabels);
            total = total + cellProbe.Config.Weight * probeLoss;
            LastCellProbe = (probeLoss.item<float>(), probeAccuracy.item<float>());
        }
        LastUnderstanding = null;
        if (Understanding is { } u && u.IsStep(s))
        {
            var (uLoss, uAcc) = u.Loss(Model, s);
            total = total + config.Understanding.LossWeight * uLoss;
            LastUnderstanding = (uLoss.item<float>(), uAcc.item<float>());
        }
        total.backward();
        double norm = config.Optim.GradClip > 0
            ? nn.utils.clip_grad_norm_(clipped, config.Optim.GradClip)
            : double.NaN;
        optimizer.step();
        probeOptimizer?.step();
        Ema.Update(s);
        Step = s + 1;
        return (result.FlowLoss.item<float>(), norm, optimizer.ParamGroups.First().LearningRate);
    }

    /// <summary>
    /// Flow loss of the EMA-free live model on a fixed validation batch with fixed noise (no caption dropout), twice: with
    /// one random order per sample (whatever the config's <c>permutation</c> and <c>raster_fraction</c>, so runs with
    /// different order mixes stay comparable) and in raster order (the order that decoding at parallel 1 uses). A model
    /// with a layout plan is given each scene's true plan after its prompt, so its loss is that of drawing a known layout.
    /// </summary>
    public QueryArValidation ValidationLoss()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var val = new ShapesDataset(config.Data.DatasetOptions(ShapesSplit.Validation));
        var samples = val.Stream().Take(config.Run.EvalBatchSize).ToList();
        var rng = new Random(0);
        var rows = samples.Select(x => prompts.Encode(x.Prompt, rng, dropout: 0)).ToList();
        var latents = EncodeScenes(samples.Select(x => x.SceneSeed).ToArray());
        var (ids, mask, _) = Collate(rows, samples.Select(x => x.Scene).ToList(), samples.Select(_ => false).ToList());   // with the scenes' plans
        Model.eval();
        double Loss(double rasterFraction) => QueryArLoss.Compute(Model, latents, ids, mask, seed.TorchGenerator("validation"),
            lossOptions with { Permutation = PermutationMode.PerSample, RasterFraction = rasterFraction }).FlowLoss.item<float>();
        var result = new QueryArValidation(RandomOrder: Loss(0), RasterOrder: Loss(1));
        Model.train();
        return result;
    }

    /// <summary>
    /// Trains until <c>optim.steps</c>, <paramref name="stopAt"/> (a step count; a checkpoint is written there) or
    /// cancellation, logging and checkpointing on the way.
    /// </summary>
    public QueryArTrainSummary Train(MetricsLog? metrics = null, long? stopAt = null)
    {
        PrepareLatents();
        FitCodes();
        long start = Step, total = config.Optim.Steps, end = Math.Min(total, stopAt ?? total);
        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN;
        QueryArValidation? lastVal = null;
        ConfigJson.Save(config, Path.Combine(runDir, "config.json"));
        double uLossSum = 0, uAccSum = 0;
        int uCount = 0;
        using var bar = progress.Start("train vgt", Math.Max(0, end - start));
        while (Step < end && !Cancellation.IsCancellationRequested)
        {
            var t0 = Stopwatch.GetTimestamp();
            var (loss, norm, lr) = GcSafeRegion.Run(TrainStep);        // no finalizer may free a scalar mid-call
            double dt = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            TrainSeconds += dt;
            lastLoss = loss;
            if (!double.IsFinite(loss)) throw new InvalidOperationException($"loss became {loss} at step {Step}; lower optim.lr or check the data");
            if (LastPlan is { } plan && !double.IsFinite(plan.Loss))
                throw new InvalidOperationException($"the plan loss became {plan.Loss} at step {Step}; lower optim.lr or model.plan.loss_weight");
            if (LastUnderstanding is { } un)
            {
                if (!double.IsFinite(un.Loss)) throw new InvalidOperationException($"the understanding loss became {un.Loss} at step {Step}; lower optim.lr or understanding.loss_weight");
                (uLossSum, uAccSum, uCount) = (uLossSum + un.Loss, uAccSum + un.Accuracy, uCount + 1);
            }
            bar.Advance(1, $"loss {loss:0.0000}");
            if (Step % config.Run.LogEvery == 0 || Step == total)
            {
                // understanding_*: means over the understanding steps since the previous row (absent when there were none)
                var row = new Dictionary<string, object?> { ["step"] = Step, ["loss"] = loss, ["grad_norm"] = norm, ["lr"] = lr, ["sec_per_step"] = dt };
                string extra = "";
                if (LastCodes is { } co)
                {
                    (row["code_loss"], row["code_accuracy"]) = (co.Loss, co.Accuracy);
                    extra += string.Format(CultureInfo.InvariantCulture, " codes {0:0.0000} acc {1:0.000}", co.Loss, co.Accuracy);
                }
                if (LastPlan is { } pl)
                {
                    (row["plan_loss"], row["plan_accuracy"]) = (pl.Loss, pl.Accuracy);
                    extra += string.Format(CultureInfo.InvariantCulture, " plan {0:0.0000} acc {1:0.000}", pl.Loss, pl.Accuracy);
                }
                if (LastCellProbe is { } cp)
                {
                    (row["cell_probe_loss"], row["cell_probe_accuracy"]) = (cp.Loss, cp.Accuracy);
                    extra += string.Format(CultureInfo.InvariantCulture, " cell probe {0:0.0000} acc {1:0.000}", cp.Loss, cp.Accuracy);
                }
                if (uCount > 0)
                {
                    (row["understanding_loss"], row["understanding_accuracy"], row["understanding_steps"]) = (uLossSum / uCount, uAccSum / uCount, uCount);
                    extra += string.Format(CultureInfo.InvariantCulture, " understanding loss {0:0.00000} acc {1:0.000}", uLossSum / uCount, uAccSum / uCount);
                    (uLossSum, uAccSum, uCount) = (0, 0, 0);
                }
                metrics?.Write(row);
                log.WriteLine(string.Format(CultureInfo.InvariantCulture, "step {0}/{1} loss {2:0.00000} grad_norm {3:0.000} lr {4:0.000e0} {5:0.00} s/step{6}",
                    Step, total, loss, norm, lr, dt, extra));
            }
            if (config.Run.EvalEvery > 0 && (Step % config.Run.EvalEvery == 0 || Step == total))
            {
                var v = GcSafeRegion.Run(ValidationLoss);
                lastVal = v;
                // val_loss: one random order per sample, comparable across order mixes; val_loss_raster: raster order
                metrics?.Write(new Dictionary<string, object?> { ["step"] = Step, ["val_loss"] = v.RandomOrder, ["val_loss_raster"] = v.RasterOrder });
                log.WriteLine(string.Format(CultureInfo.InvariantCulture, "step {0} validation loss {1:0.00000} (random orders), {2:0.00000} (raster)", Step, v.RandomOrder, v.RasterOrder));
            }
            if (Step % config.Run.CheckpointEvery == 0 || Step == total) SaveCheckpoint();
        }
        if (Step < total && Step > start && Step % config.Run.CheckpointEvery != 0) SaveCheckpoint();   // stopped early: keep what was done
        return new QueryArTrainSummary(start, Step, lastLoss, lastVal, clock.Elapsed, TrainSeconds);
    }

    public void SaveCheckpoint()
    {
        var progressRecord = new TrainingProgress(Step, config.Seed, ConfigJson.Serialize(config),
            new Dictionary<string, double> { ["train_seconds"] = TrainSeconds });
        Checkpoints.Save(progressRecord, Model, Optimizers(), Ema, ProbeTensors());
        log.WriteLine($"checkpoint: step {Step} → {Checkpoints.Latest()}");
    }

    /// <summary>File of an exported generator holding the whole training config that made it (see <see cref="Export"/>).</summary>
    public const string TrainingConfigFile = "training_config.json";

    /// <summary>
    /// Writes the generator directory with the EMA weights (see <see cref="VgtGenerator.Save"/>), plus
    /// <see cref="TrainingConfigFile"/>: this run's config exactly as trained, so the recipe travels with the weights.
    /// config.json's provenance repeats the knobs that decide what the model learns but that its model config does not
    /// hold (data mix, orders, probe, head samples); <paramref name="configPath"/>, when given, names the config file used.
    /// </summary>
    public void Export(string directory, string name, string? readme = null, string? configPath = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var provenance = new Dictionary<string, string>
        {
            ["steps"] = Step.ToString(inv),
            ["train_seconds"] = TrainSeconds.ToString("0", inv),
            ["seed"] = config.Seed.ToString(inv),
            ["init_from"] = config.InitFrom ?? "random",
            ["ae"] = config.Ae,
            ["ae_sha256"] = Autoencoder.WeightsSha256,
            ["permutation"] = config.Permutation == PermutationMode.PerBatch ? "per_batch" : "per_sample",
            ["raster_fraction"] = config.RasterFraction.ToString(inv),
            ["cell_probe_weight"] = (config.CellProbe?.Weight ?? 0).ToString(inv),
            ["head_batch_mul"] = config.HeadBatchMul.ToString(inv),
            ["caption_dropout"] = config.CaptionDropout.ToString(inv),
            ["caption_probability"] = config.Data.CaptionProbability.ToString(inv),
            ["relation_caption_probability"] = config.Data.RelationCaptionProbability.ToString(inv),
            ["raster_name_order"] = config.Data.RasterNameOrder ? "true" : "false",
            ["caption_prefix"] = config.Data.CaptionPrefix,
            ["training_config"] = configPath is null ? TrainingConfigFile : configPath.Replace('\\', '/'),
        };
        var gc = new VgtGeneratorConfig
        {
            Name = name, QueryAr = config.Model, Defaults = config.Generation with { Size = config.Data.ImageSize }, Provenance = provenance,
        };
        System.IO.Directory.CreateDirectory(directory);
        IO.AtomicFile.WriteAllText(Path.Combine(directory, TrainingConfigFile), ConfigJson.Serialize(config));   // before config.json, which Save writes last
        VgtGenerator.Save(directory, gc, Model, Tokenizer, AeDirectory, Ema.StateDict(), readme);
    }

    /// <summary>
    /// "Understanding after tuning": writes an InternVL directory (<see cref="InternVlChatModel.Load"/> reads it) made of
    /// init_from's vision tower, mlp1, config and tokenizer with this run's tuned LLM, the same EMA weights
    /// <see cref="Export"/> ships (see <see cref="TunedVlm"/>). Returns false (and writes nothing) without init_from or when
    /// init_from is not an InternVL directory (no config.json).
    /// </summary>
    public bool ExportVlm(string directory)
    {
        if (config.InitFrom is null) return false;
        var vlmDir = ModelCatalog.Resolve(config.InitFrom);
        if (!File.Exists(Path.Combine(vlmDir, "config.json"))) return false;
        var ema = Ema.StateDict();
        var state = Model.state_dict().ToDictionary(kv => kv.Key, kv => ema.TryGetValue(kv.Key, out var e) ? e : kv.Value);   // as Export writes
        var meta = new Dictionary<string, string>
        {
            ["vlm"] = config.InitFrom,
            ["llm"] = "VGT-AR tuned (EMA)",
            ["steps"] = Step.ToString(CultureInfo.InvariantCulture),
            ["understanding_every"] = config.Understanding.Every.ToString(CultureInfo.InvariantCulture),
        };
        TunedVlm.Write(vlmDir, state, Tokenizer, directory, meta);
        log.WriteLine($"exported the tuned VLM → {directory} (measure with: vgt eval vlm --model {directory})");
        return true;
    }

    public void Dispose()
    {
        Understanding?.Dispose();
        cache?.Dispose();
        Ema.Dispose();
        optimizer.Dispose();
        probeOptimizer?.Dispose();
        cellProbe?.Dispose();
        Model.Dispose();
        Autoencoder.Dispose();
    }
}
