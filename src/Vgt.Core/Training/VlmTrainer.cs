using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using Vgt.Config;
using Vgt.Logging;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// The parts of one batch's loss (<see cref="VlmTrainer.LossParts"/>): LM loss, token accuracy, accuracy of the relation
/// questions' yes/no token, and the layout probe's loss and the accuracy of its relation head (null when not computed).
/// </summary>
public sealed record VlmLossParts(Tensor Loss, Tensor Accuracy, Tensor? RelationAnswerAccuracy, Tensor? ProbeLoss, Tensor? ProbeRelationAccuracy,
    Tensor? ProbeGroupAccuracy = null);

/// <summary>What a `vgt train vlm` run did.</summary>
public sealed record VlmTrainResult(string ModelDirectory, long Steps, double TrainSeconds, double LastLoss, int VocabSize, long Parameters);

/// <summary>
/// Trains an InternVL-family chat model on Shapes World captions and questions (shapes-world.md §6): BPE vocabulary
/// learned from Shapes World text, then LM loss on the answer tokens only (user turn <c>&lt;img&gt;…&lt;/img&gt;\n{question}</c>),
/// AdamW with warm-up + cosine, resumable checkpoints (<see cref="TrainingCheckpoints"/>), metrics JSONL. The run
/// folder holds <c>tokenizer/</c>, <c>checkpoints/</c>, <c>metrics.jsonl</c>, <c>train-config.json</c> and, at the end,
/// <c>model/</c> (a directory <see cref="InternVlChatModel.Load"/> reads).
/// </summary>
public static class VlmTrainer
{
    /// <summary>How often one invocation may go back to its last checkpoint after a native error.</summary>
    public const int MaxRecoveries = 20;

    /// <summary>
    /// The loss of one packed batch: mean cross-entropy over the supervised tokens, and their top-1 accuracy. The
    /// decoder layers run with the batch's block mask and per-segment positions (see <see cref="VlmBatch"/>).
    /// </summary>
    public static (Tensor Loss, Tensor Accuracy) Loss(InternVlModel model, VlmBatch batch, int imageContextId)
    {
        using var scope = NewDisposeScope();
        var features = model.ExtractFeature(batch.Pixels);                                  // [B, N', D]
        var (loss, accuracy) = Loss(model.LanguageModel.Model, model.LanguageModel.Logits, features, batch, imageContextId);
        return (loss.MoveToOuterDisposeScope(), accuracy.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The same loss for any decoder + LM head given the image tokens (<paramref name="imageTokens"/> [B, N', D], e.g.
    /// from a frozen vision tower): what VGT training's understanding mix uses with the generator's own decoder and the
    /// tied embedding as head. <paramref name="lmHead"/>: hidden [N, D] → logits [N, V].
    /// </summary>
    public static (Tensor Loss, Tensor Accuracy) Loss(Models.Qwen2.Qwen2Model llm, Func<Tensor, Tensor> lmHead, Tensor imageTokens, VlmBatch batch, int imageContextId)
    {
        var parts = LossParts(llm, lmHead, imageTokens, batch, imageContextId);
        parts.RelationAnswerAccuracy?.Dispose();
        return (parts.Loss, parts.Accuracy);
    }

    /// <summary>
    /// <see cref="Loss(Models.Qwen2.Qwen2Model, Func{Tensor, Tensor}, Tensor, VlmBatch, int)"/> with its parts: the LM
    /// loss, the token accuracy, the accuracy of the yes/no token of the relation questions (null when the batch has
    /// none) and, with a <paramref name="probe"/>, the layout probe's (unweighted) loss and relation accuracy, read at the
    /// decoder layers its config names.
    /// </summary>
    public static VlmLossParts LossParts(Models.Qwen2.Qwen2Model llm, Func<Tensor, Tensor> lmHead, Tensor imageTokens, VlmBatch batch, int imageContextId,
        LayoutProbe? probe = null)
    {
        int positionLayer = probe?.Config.PositionLayer ?? 0, relationLayer = probe?.Config.RelationLayer ?? 0;
        int? groupLayer = probe?.Config.GroupLayer;
        using var scope = NewDisposeScope();
        var h = InternVlModel.EmbedWithImages(llm, batch.InputIds, imageTokens, imageContextId);   // [B, T, D]
        var (cos, sin) = llm.Rotary.forward(batch.Positions);                              // [B, T, hd]
        Tensor? positionHidden = null, relationHidden = null, groupHidden = null;
        for (int i = 0; i < llm.Config.NumHiddenLayers; i++)
        {
            h = llm.Layer(i).Forward(h, cos, sin, batch.Allowed, null);
            if (i + 1 == positionLayer) positionHidden = h;                                 // [B, T, D]
            if (i + 1 == relationLayer) relationHidden = h;                                 // [B, T, D]
            if (i + 1 == groupLayer) groupHidden = h;                                       // [B, T, D]
        }
        h = FinalNorm(llm).forward(h);                                                      // [B, T, D]
        if (relationLayer == 0) relationHidden = h;
        if (groupLayer == 0) groupHidden = h;
        var supervised = batch.Labels.ne(VlmBatchBuilder.IgnoreIndex);                       // [B, T]
        var targets = batch.Labels[supervised];                                              // [N]
        var logits = lmHead(h[supervised]);                                                  // [N, V]
        var loss = nn.functional.cross_entropy(logits, targets);
        var accuracy = logits.argmax(-1).eq(targets).to_type(ScalarType.Float32).mean();
        Tensor? relationAccuracy = null, probeLoss = null, probeRelation = null, probeGroup = null;
        if (batch.Layout is { } layout && layout.AnswerIndex.shape[0] > 0)
        {
            // answer positions are supervised: their rows in logits/targets are their ranks among the supervised positions
            var rows = (supervised.reshape(-1).to_type(ScalarType.Int64).cumsum(0) - 1).index_select(0, layout.AnswerIndex);   // [M]
            relationAccuracy = logits.index_select(0, rows).argmax(-1).eq(targets.index_select(0, rows))
                .to_type(ScalarType.Float32).mean().detach().MoveToOuterDisposeScope();
        }
        if (batch.Layout is { } targetsOfProbe && probe is not null)
        {
            if (positionHidden is null || relationHidden is null || (groupLayer is not null && groupHidden is null))
                throw new ArgumentException($"the probe layers must be in 1..{llm.Config.NumHiddenLayers} (relation and group: or 0), " +
                                            $"got {positionLayer}, {relationLayer} and {groupLayer?.ToString() ?? "none"}");
            var (pl, pr, pg) = probe.Loss(positionHidden, relationHidden, groupHidden, targetsOfProbe);
            (probeLoss, probeRelation, probeGroup) = (pl.MoveToOuterDisposeScope(), pr?.MoveToOuterDisposeScope(), pg?.MoveToOuterDisposeScope());
        }
        return new VlmLossParts(loss.MoveToOuterDisposeScope(), accuracy.MoveToOuterDisposeScope(), relationAccuracy, probeLoss, probeRelation, probeGroup);
    }

    /// <summary>Qwen2Model's final RMSNorm (its child "norm").</summary>
    static nn.Module<Tensor, Tensor> FinalNorm(Models.Qwen2.Qwen2Model llm) =>
        llm.named_children().Where(c => c.name == "norm").Select(c => c.module).OfType<nn.Module<Tensor, Tensor>>().Single();

    /// <summary>Parameters once each (a tied lm_head shares the embedding), in state-dict order.</summary>
    public static List<(string Name, Parameter Param)> UniqueParameters(nn.Module model)
    {
        var seen = new HashSet<IntPtr>();
        var list = new List<(string, Parameter)>();
        foreach (var (name, p) in model.named_parameters())
            if (seen.Add(p.Handle)) list.Add((name, p));
        return list;
    }

    /// <summary>No weight decay on embeddings, norms, biases and layer scales (anything not a ≥2-D weight matrix).</summary>
    public static DecayRule Decay(double visionLrMultiplier) =>
        new(["embed", "class_embedding", "position_embedding"], ["vision_model.", "mlp1."], visionLrMultiplier);

    /// <summary>
    /// From-scratch initialisation on top of the modules' own (which follow the pretrained reference): InternViT's class
    /// embedding starts at N(0, 0.02) instead of N(0, 1), and the position table at a 2-D sine–cosine table (MAE's: a
    /// quarter of the channels each for sin/cos of the row and of the column, frequencies 10000^(−i/(D/4)); the class
    /// token's row zero), so that from the first step every patch knows where it is without the table drowning the patch
    /// content (with N(0, 1) the tiny model stayed blind for hundreds of steps; with N(0, 0.02) it had no layout to use).
    /// </summary>
    public static void InitialiseForScratchTraining(InternVlModel model, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name is "vision_model.embeddings.class_embedding") p.normal_(0, 0.02, generator);
            if (name is "vision_model.embeddings.position_embedding") p.copy_(SinCosPositions(p.shape[1], p.shape[2]));
        }
    }

    /// <summary>The 2-D sine–cosine table [1, 1 + g², D] (row 0 for the class token is zero); D must be a multiple of 4.</summary>
    public static Tensor SinCosPositions(long positions, long d)
    {
        int g = (int)Math.Round(Math.Sqrt(positions - 1));
        if ((long)g * g + 1 != positions || d % 4 != 0)
            throw new ArgumentException($"a sine–cosine table needs 1 + g² positions and a width divisible by 4, got {positions} and {d}");
        long q = d / 4;
        var table = new float[positions * d];
        for (int y = 0; y < g; y++)
            for (int x = 0; x < g; x++)
                for (long i = 0; i < q; i++)
                {
                    double omega = Math.Pow(10000, -(double)i / q);
                    long o = (1 + (long)y * g + x) * d;
                    table[o + i] = (float)Math.Sin(y * omega);
                    table[o + q + i] = (float)Math.Cos(y * omega);
                    table[o + 2 * q + i] = (float)Math.Sin(x * omega);
                    table[o + 3 * q + i] = (float)Math.Cos(x * omega);
                }
        return tensor(table).view(1, positions, d);
    }

    /// <summary>Learns (or, on resume, reloads) the tokenizer in <c>RUN/tokenizer</c>.</summary>
    public static Qwen2Tokenizer PrepareTokenizer(VlmTrainConfig config, string runDirectory, TextWriter log)
    {
        var dir = Path.Combine(runDirectory, "tokenizer");
        if (File.Exists(Path.Combine(dir, TokenizerFiles.TokenizerJson))) return Qwen2Tokenizer.Load(dir);
        var corpus = VlmTasks.TokenizerCorpus(config.Data.TokenizerScenes, config.Data.CategoryWeights);
        var model = BpeTrainer.Train(corpus, new BpeTrainerOptions(config.Model.Llm.VocabSize), out var report);
        model = model with { EosToken = Qwen2SpecialTokens.ImEnd, PadToken = Qwen2SpecialTokens.EndOfText };
        TokenizerFiles.Write(model, dir);
        var tokenizer = Qwen2Tokenizer.Load(dir);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tokenizer: {report.Merges} merges, {tokenizer.VocabSize} ids from {config.Data.TokenizerScenes} scenes in {report.Elapsed.TotalSeconds:F1} s"));
        return tokenizer;
    }

    /// <summary>The model config with the tokenizer's vocabulary size.</summary>
    public static InternVlConfig ModelConfig(VlmTrainConfig config, Qwen2Tokenizer tokenizer) =>
        config.Model with { Llm = config.Model.Llm with { VocabSize = tokenizer.VocabSize } };

    /// <summary>
    /// Runs (or with <paramref name="resume"/> continues) training in <paramref name="runDirectory"/>.
    /// <paramref name="stopAfter"/> ends this invocation after that many steps in total (the schedule still spans
    /// optim.steps), leaving a checkpoint to resume from.
    /// </summary>
    public static VlmTrainResult Run(VlmTrainConfig config, string runDirectory, bool resume, IProgressFactory progress, TextWriter log,
        long? stopAfter = null)
    {
        config.Validate();
        Directory.CreateDirectory(runDirectory);
        var checkpoints = new TrainingCheckpoints(runDirectory, config.Run.KeepCheckpoints);
        var latest = checkpoints.Latest();
        if (!resume && latest is not null)
            throw new ArgumentException($"'{runDirectory}' already holds training checkpoints ({Path.GetFileName(latest)}); pass --resume to continue, or choose another --out.");
        var configJson = ConfigJson.Serialize(config);
        ConfigJson.Save(config, Path.Combine(runDirectory, "train-config.json"));

        var seed = new VgtSeed(config.Seed);
        var tokenizer = PrepareTokenizer(config, runDirectory, log);
        var modelConfig = ModelConfig(config, tokenizer);
        using var initGenerator = seed.TorchGenerator("init");
        using var model = new InternVlModel(modelConfig, generator: initGenerator);
        InitialiseForScratchTraining(model, initGenerator);
        var named = UniqueParameters(model);
        long parameters = named.Sum(p => p.Param.numel());
        var o = config.Optim;
        var (optimizer, _) = ParameterGroups.CreateAdamW(named, Decay(o.VisionLrMultiplier), o.Lr, o.WeightDecay, o.Beta1, o.Beta2);
        using var optimizerScope = optimizer;
        var schedule = new WarmupCosineSchedule(o.WarmupSteps, o.Steps, o.EndFactor, WarmupStartFactor: 0.01);
        var optimizers = new Dictionary<string, OptimizerHelper> { ["adamw"] = optimizer };
        var probeConfig = config.LayoutProbe;
        using var probeGenerator = seed.TorchGenerator("layout-probe");
        using var probe = probeConfig is null ? null : new LayoutProbe(probeConfig, modelConfig.Llm.HiddenSize, probeGenerator);
        using var probeOptimizer = probe is null ? null : optim.AdamW(probe.parameters(), lr: o.Lr, beta1: o.Beta1, beta2: o.Beta2, weight_decay: 0.0);
        if (probeOptimizer is not null) optimizers["probe"] = probeOptimizer;

        long step = 0;
        double elapsedBefore = 0;
        if (resume && latest is not null)
        {
            var saved = TrainingCheckpoints.Load(latest, model, optimizers, extraTensors: RestoreProbe);
            if (saved.ConfigJson != configJson)
                throw new ArgumentException($"The run in '{runDirectory}' was started with another configuration (see its train-config.json); resume needs the same one.");
            step = saved.Step;
            elapsedBefore = saved.Scalars.GetValueOrDefault("train_seconds");
            log.WriteLine($"resumed from {latest} at step {step}");
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"shapes-vlm training: {parameters:N0} parameters, vocab {tokenizer.VocabSize}, {modelConfig.NumImageTokens} image tokens, batch {o.BatchSize} images × ≤ {config.Data.SegmentsPerImage} segments, steps {o.Steps}, threads {get_num_threads()}"));

        var batches = new VlmBatchBuilder(seed, new VlmBatchSpec(o.BatchSize, config.Data.SegmentsPerImage, config.Data.CaptionFraction, config.Data.CategoryWeights),
            tokenizer, modelConfig, probeConfig?.Bins ?? 8, groupTargets: probeConfig?.GroupLayer is not null);
        using var metrics = new MetricsLog(Path.Combine(runDirectory, "metrics.jsonl"));
        // the warm-up's result is in every checkpoint (the first is written right after it), so a resumed run skips it
        if (!(resume && latest is not null) && config.VisionWarmup is { Steps: > 0 } warmup)
        {
            var warmClock = Stopwatch.StartNew();
            VisionWarmup.Run(model, warmup, seed, config.Data.CategoryWeights, progress, log);
            elapsedBefore += warmClock.Elapsed.TotalSeconds;
        }
        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN, lossSum = 0, accSum = 0;
        var optionalMeans = new WindowMeans();
        int window = 0;
        long end = Math.Min(o.Steps, stopAfter ?? long.MaxValue);
        var parameterList = named.Select(p => p.Param).Concat(probe?.parameters() ?? []).ToList();
        int imageContextId = tokenizer.ImgContext;
        double gradNorm = double.NaN;
        if (step == 0) Save(0);   // a checkpoint to fall back to from the very first step

        void Save(long doneSteps)
        {
            var scalars = new Dictionary<string, double> { ["train_seconds"] = elapsedBefore + clock.Elapsed.TotalSeconds };
            if (double.IsFinite(lastLoss)) scalars["loss"] = lastLoss;
            checkpoints.Save(new TrainingProgress(doneSteps, config.Seed, configJson, scalars), model, optimizers,
                extraTensors: probe?.state_dict().ToDictionary(kv => "layout_probe." + kv.Key, kv => kv.Value));
        }

        void RestoreProbe(IReadOnlyDictionary<string, Tensor> saved)
        {
            if (probe is null) return;
            using var noGrad = no_grad();
            foreach (var (name, p) in probe.named_parameters())
                p.copy_(saved.TryGetValue("layout_probe." + name, out var t) ? t
                    : throw new InvalidDataException($"the checkpoint lacks the layout probe's '{name}'"));
        }

        model.train();
        int recoveries = 0;
        using (var bar = progress.Start("train vlm", o.Steps))
        {
            if (step > 0) bar.Advance(step);
            for (; step < end; step++)
            {
                using var gcSafe = GcSafeRegion.Enter();
                using var scope = NewDisposeScope();
                try
                {
                    schedule.Apply(optimizer, step);
                    if (probeOptimizer is not null) schedule.Apply(probeOptimizer, step);
                    using var batch = batches.Build(step);
                    optimizer.zero_grad();
                    probeOptimizer?.zero_grad();
                    var features = model.ExtractFeature(batch.Pixels);                              // [B, N', D]
                    var parts = LossParts(model.LanguageModel.Model, model.LanguageModel.Logits, features, batch, imageContextId, probe);
                    var total = parts.ProbeLoss is { } probeLoss ? parts.Loss + probe!.Config.Weight * probeLoss : parts.Loss;
                    total.backward();
                    gradNorm = o.GradClip > 0 ? nn.utils.clip_grad_norm_(parameterList, o.GradClip) : double.NaN;
                    optimizer.step();
                    probeOptimizer?.step();
                    lastLoss = parts.Loss.item<float>();
                    accSum += parts.Accuracy.item<float>();
                    optionalMeans.Add("relation_accuracy", parts.RelationAnswerAccuracy);
                    optionalMeans.Add("probe_loss", parts.ProbeLoss);
                    optionalMeans.Add("probe_relation_accuracy", parts.ProbeRelationAccuracy);
                    optionalMeans.Add("probe_group_accuracy", parts.ProbeGroupAccuracy);
                }
                catch (System.Runtime.InteropServices.ExternalException e) when (recoveries < MaxRecoveries && checkpoints.Latest() is not null)
                {
                    // A native error mid-step (seen rarely under memory pressure: a scalar freed by the finalizer while in use)
                    // leaves the parameters or the optimiser half-updated: go back to the last checkpoint. The batches depend
                    // only on (seed, step), so the run continues exactly as if nothing had happened.
                    recoveries++;
                    var back = checkpoints.Latest()!;
                    log.WriteLine($"step {step + 1}: native error ({e.Message.Split('\n')[0]}); restoring {Path.GetFileName(back)} (recovery {recoveries} of {MaxRecoveries})");
                    var saved = TrainingCheckpoints.Load(back, model, optimizers, extraTensors: RestoreProbe);
                    step = saved.Step - 1;                                          // the loop's step++ brings it back to saved.Step
                    lossSum = accSum = 0;
                    optionalMeans.Clear();
                    window = 0;
                    continue;
                }
                lossSum += lastLoss;
                window++;
                if ((step + 1) % config.Run.LogEvery == 0 || step + 1 == end)
                {
                    double seconds = elapsedBefore + clock.Elapsed.TotalSeconds;
                    var line = new Dictionary<string, object?>
                    {
                        ["step"] = step + 1,
                        ["loss"] = lossSum / window,
                        ["token_accuracy"] = accSum / window,
                        ["lr"] = optimizer.ParamGroups.First().LearningRate,
                        ["grad_norm"] = gradNorm,
                        ["train_seconds"] = seconds,
                    };
                    foreach (var (name, mean) in optionalMeans.Means()) line[name] = mean;
                    metrics.Write(line);
                    string relationText = optionalMeans.Means().TryGetValue("relation_accuracy", out var rel)
                        ? string.Create(CultureInfo.InvariantCulture, $" rel {rel:F3}") : "";
                    bar.Advance(window, string.Create(CultureInfo.InvariantCulture, $"loss {lossSum / window:F4} acc {accSum / window:F3}{relationText}"));
                    lossSum = accSum = 0;
                    optionalMeans.Clear();
                    window = 0;
                }
                if ((step + 1) % config.Run.CheckpointEvery == 0 && step + 1 < end) Save(step + 1);
            }
        }
        Save(step);
        double trainSeconds = elapsedBefore + clock.Elapsed.TotalSeconds;
        model.eval();

        var modelDir = Path.Combine(runDirectory, "model");
        if (step >= o.Steps)
        {
            var chat = InternVlChatModel.Wrap(model, tokenizer);
            chat.Save(modelDir, new Dictionary<string, string>
            {
                ["steps"] = step.ToString(CultureInfo.InvariantCulture),
                ["seed"] = config.Seed.ToString(CultureInfo.InvariantCulture),
                ["train_seconds"] = trainSeconds.ToString("F0", CultureInfo.InvariantCulture),
            });
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {modelDir} after {step} steps, {trainSeconds:F0} s of training"));
        }
        else
        {
            log.WriteLine($"stopped at step {step} of {o.Steps}; continue with --resume");
        }
        return new VlmTrainResult(modelDir, step, trainSeconds, lastLoss, tokenizer.VocabSize, parameters);
    }
}
