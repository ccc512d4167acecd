using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;
using Vgt.Logging;
using Vgt.Losses;
using Vgt.Models.Perceptual;
using Vgt.Models.VgtAe;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>The AE and its loss module (discriminator, LeCam EMAs) as one module, for training checkpoints (`ae.*`, `loss.*`).</summary>
public sealed class AeTrainingState : nn.Module
{
    public readonly LatentAutoencoder ae;
    public readonly VgtAeLoss loss;

    public AeTrainingState(LatentAutoencoder ae, VgtAeLoss loss) : base(nameof(AeTrainingState))
    {
        this.ae = ae;
        this.loss = loss;
        RegisterComponents();
    }
}

/// <summary>The frozen VLM teacher of a VGT-AE as a feature extractor for [0,1] images (perceptual term and Fréchet distance on Shapes World).</summary>
public sealed class TeacherFeatureExtractor(VgtAutoencoder ae, string name = "teacher") : IFeatureExtractor
{
    public string Name { get; } = name;

    /// <summary>images [B,3,H,W] in [0,1] → post-projector teacher features [B,L,D].</summary>
    public Tensor Features(Tensor images) => ae.TeacherFeatures(images * 2 - 1);
}

/// <summary>A perceptual term that is always 0 (pixel losses only: the conv baseline, or perceptual_weight 0).</summary>
public sealed class NoPerceptualLoss : IPerceptualLoss
{
    public Tensor Loss(Tensor inputs, Tensor reconstructions) => zeros(1, device: inputs.device).sum();
}

/// <summary>How a run ended.</summary>
public sealed record AeTrainResult(long Steps, long StartStep, double Seconds, double? ValidationPsnr, string ExportDir);

/// <summary>
/// The VGT-AE training loop (vgt-reference §5.5), generic over the encoder (VLM-based or conv baseline):
/// per step: AE forward in train mode (noise, distillation; with data.tile_jitter the encoder sees jittered images and the
/// target is the clean or aligned one) → generator loss (L2 + perceptual + distill + KL + GAN from discriminator_start)
/// → backward → clip AE grads → AdamW (groups: `encoder.*` LR × multiplier, reference no-decay rules) with warm-up +
/// cosine → then, from discriminator_start, the hinge + LeCam discriminator step on the same batch with its own clipped
/// AdamW and schedule (warm-up from discriminator_start). Data: Shapes World train split, batch b of step s = the train
/// scenes s·b … s·b+b−1 in scene-seed order; noise and jitter from (seed, step): resume is exact.
/// </summary>
public sealed class AeTrainer
{
    public AeTrainConfig Config { get; }
    private readonly TextWriter log;

    public AeTrainer(AeTrainConfig config, TextWriter? log = null)
    {
        config.Validate();
        Config = config;
        this.log = log ?? TextWriter.Null;
    }

    /// <summary>Builds the AE of the config (with the teacher when it trains with one), with its initial weights.</summary>
    public LatentAutoencoder BuildModel()
    {
        var c = Config;
        var seed = new VgtSeed(c.Seed);
        manual_seed(seed.Derive("init/torch"));                  // DC-AE layers use torch's default init (global generator)
        var gen = seed.TorchGenerator("init");
        LatentAutoencoder ae = c.Model.Encoder == AeEncoderKind.Conv ? new ConvAutoencoder(c.Model)
            : c.Vlm is not null ? VgtAeModel.FromVlm(c.Vlm, c.Model, generator: gen)
            : new VgtAutoencoder(c.Model, generator: gen);
        if (c.InitFrom is not null)
        {
            var dir = ModelCatalog.Resolve(c.InitFrom);
            using var ck = Checkpoints.CheckpointReader.Open(Path.Combine(dir, VgtAeModel.WeightsFile));
            var init = VgtAeModel.LoadInit(ae, ck, c.InitParts);
            log.WriteLine(c.InitParts switch
            {
                AeInitParts.All => $"initialised from {dir}",
                AeInitParts.Encoder => $"encoder initialised from {dir}; decoder freshly initialised",
                _ => $"initialised from {dir}; {init.FreshDecoderTensors.Count} decoder tensors not in it keep their fresh initialisation ({Names(init.FreshDecoderTensors)}); " +
                     $"{init.DroppedCheckpointTensors.Count} of its decoder tensors are not used ({Names(init.DroppedCheckpointTensors)})",
            });
        }
        if (c.DecoderInit is not null) VgtAeModel.LoadDiffusersDecoder(ae, c.DecoderInit);
        if (c.TrainDecoderOnly)
            foreach (var (name, p) in ae.named_parameters())
                if (!name.StartsWith("decoder.", StringComparison.Ordinal)) p.requires_grad = false;
        return ae;

        static string Names(IReadOnlyList<string> names) => names.Count == 0 ? "none" : string.Join(", ", names.Take(6)) + (names.Count > 6 ? ", …" : "");
    }

    private IPerceptualLoss BuildPerceptual(LatentAutoencoder ae)
    {
        var c = Config;
        if (c.Loss.PerceptualWeight == 0) return new NoPerceptualLoss();
        var spec = PerceptualLossSpec.Parse(c.Loss.PerceptualLoss);
        if (spec.Teacher) return new FeaturePerceptualLoss(new TeacherFeatureExtractor((VgtAutoencoder)ae));
        var lpips = spec.Lpips ? Lpips.FromFiles(c.LpipsVgg16!, c.LpipsLin!) : null;
        var convnext = spec.ConvNext ? ConvNeXt.FromFile(c.ConvnextWeights!) : null;
        return PerceptualLoss.FromSpec(spec, lpips, convnext);
    }

    /// <summary>The train-split scene seeds of step <paramref name="step"/> (cheap: hashing only, no rendering of skipped scenes).</summary>
    public static IEnumerable<long> SceneSeedsOfStep(AeDataConfig data, long step, ref long cursor, ref long seen)
    {
        var list = new List<long>(data.BatchSize);
        long target = step * data.BatchSize;
        while (seen < target || list.Count < data.BatchSize)
        {
            long s = cursor++;
            if (ShapesDataset.SplitOf(s) != ShapesSplit.Train) continue;
            if (seen++ >= target) list.Add(s);
        }
        return list;
    }

    /// <summary>Trains from step 0 (or the latest checkpoint with <paramref name="resume"/>) to max_steps; <paramref name="stopAtStep"/>
    /// ends early after saving a checkpoint there (as an interrupted run would), without exporting.</summary>
    public AeTrainResult Run(bool resume = false, long? stopAtStep = null, CancellationToken cancel = default)
    {
        var c = Config;
        var seed = new VgtSeed(c.Seed);
        var configJson = ConfigJson.Serialize(c);
        Directory.CreateDirectory(c.OutputDir);
        var checkpoints = new TrainingCheckpoints(c.OutputDir);
        string? latest = resume ? checkpoints.Latest() : null;
        if (resume && latest is null) log.WriteLine($"--resume: no checkpoint in {checkpoints.Directory}; starting from step 0");
        if (!resume && checkpoints.Latest() is { } existing)
            throw new ArgumentException($"output_dir {c.OutputDir} already holds checkpoints (latest {existing}); pass --resume or choose another output_dir");

        using var ae = BuildModel();
        var perceptual = BuildPerceptual(ae);
        using var loss = new VgtAeLoss(c.Loss, perceptual, seed.TorchGenerator("init/discriminator"));
        using var state = new AeTrainingState(ae, loss);
        var o = c.Optimizer;
        var rule = DecayRule.VgtAe(o.EncoderLrMultiplier);
        var (opt, groups) = ParameterGroups.CreateAdamW(ae.TrainableParameters(), rule, o.LearningRate, o.WeightDecay, o.Beta1, o.Beta2);
        var (dopt, _) = ParameterGroups.CreateAdamW(loss.DiscriminatorParameters(), rule, o.DiscriminatorLearningRate, o.WeightDecay, o.Beta1, o.Beta2);
        var optimizers = new Dictionary<string, OptimizerHelper> { ["ae"] = opt, ["discriminator"] = dopt };
        var schedule = new WarmupCosineSchedule(o.WarmupSteps, c.MaxSteps, o.EndLearningRate / o.LearningRate);
        long discSteps = Math.Max(1, c.MaxSteps - c.Loss.DiscriminatorStart);
        var dschedule = new WarmupCosineSchedule(Math.Min(o.WarmupSteps, (int)Math.Max(0, discSteps - 1)), (int)Math.Max(discSteps, 1), o.EndLearningRate / o.LearningRate);
        var aeParams = ae.TrainableParameters().Select(p => p.Param).ToList();
        var discParams = loss.DiscriminatorParameters().Select(p => p.Param).ToList();

        long start = 0;
        if (latest is not null)
        {
            var progress = TrainingCheckpoints.Load(latest, state, optimizers);
            if (progress.ConfigJson != configJson)
                throw new InvalidOperationException($"{latest} was written with another config; resume needs the same config (or a new output_dir)");
            start = progress.Step;
            log.WriteLine($"resumed from {latest} at step {start}");
        }
        log.WriteLine($"{c.Name}: {ae.GetType().Name}, stride {ae.Stride}, latent {c.Model.LatentChannels}×{c.Model.ImageSize / ae.Stride}×{c.Model.ImageSize / ae.Stride}, " +
                      $"{aeParams.Sum(p => p.numel()):N0} trainable AE parameters, groups " +
                      string.Join(", ", groups.Select(g => $"{g.Group}:{g.Names.Count}")) + $"; steps {start}→{c.MaxSteps}, batch {c.Data.BatchSize}");

        using var metrics = new MetricsLog(Path.Combine(c.OutputDir, "metrics.jsonl"));
        var validation = c.Data.ValidationImages > 0 ? ReconEvaluator.HeldOutImages(c.Data.ValidationImages, c.Data.ImageSize, ShapesSplit.Validation) : null;
        var dataset = new ShapesDataset(new ShapesDatasetOptions(ShapesSplit.Train, c.Data.ImageSize, c.Data.CategoryWeights, c.Data.FirstSceneSeed));
        long cursor = c.Data.FirstSceneSeed, seen = 0;
        var clock = Stopwatch.StartNew();
        double? lastPsnr = null;
        long step = start;
        var sums = new Dictionary<string, double>();
        int sumCount = 0;
        try
        {
            for (; step < c.MaxSteps && !cancel.IsCancellationRequested; step++)
            {
                using var gcSafe = GcSafeRegion.Enter();                 // no finalizer may free a scalar mid-call
                using var scope = NewDisposeScope();
                ae.train();
                var seeds = SceneSeedsOfStep(c.Data, step, ref cursor, ref seen).ToList();
                var dataClock = Stopwatch.StartNew();
                var samples = seeds.Select(dataset.Get).ToList();
                var x = stack(samples.Select(s => s.ImageTensor()).ToArray());                 // [B,3,S,S] in [−1,1]: the target
                var input = x;                                                                 // what the encoder sees
                if (c.Data.TileJitter is { } jitter)
                    (input, x) = jitter.Apply(x, seed.DotNetRandom($"tile_jitter/{step}"), samples.Select(s => s.Scene).ToList());
                sums["data_s"] = sums.GetValueOrDefault("data_s") + dataClock.Elapsed.TotalSeconds;
                using var noise = seed.TorchGenerator($"noise/{step}");
                var (rec, enc) = ae.Reconstruct(input, noise);
                var g = loss.GeneratorLoss(x, rec, new AeLossExtras(enc.DistillLoss, enc.KlPerSample), step);
                opt.zero_grad();
                g.Loss.backward();
                double gradNorm = nn.utils.clip_grad_norm_(aeParams, o.MaxGradNorm);
                schedule.Apply(opt, step);
                if (double.IsFinite(gradNorm)) opt.step();
                else
                {
                    // A non-finite gradient would poison every weight through the clip; skip this update and count it.
                    opt.zero_grad();
                    sums["skipped_nonfinite"] = sums.GetValueOrDefault("skipped_nonfinite") + 1;
                    log.WriteLine($"step {step + 1}: non-finite AE gradient norm, update skipped");
                    gradNorm = 0;
                }
                foreach (var (k, v) in g.Logs) sums[k] = sums.GetValueOrDefault(k) + v;
                sums["grad_norm"] = sums.GetValueOrDefault("grad_norm") + gradNorm;
                if (loss.ShouldTrainDiscriminator(step))
                {
                    var d = loss.DiscriminatorLoss(x, rec.detach(), step);
                    dopt.zero_grad();
                    d.Loss.backward();
                    double dNorm = nn.utils.clip_grad_norm_(discParams, o.MaxGradNorm);
                    dschedule.Apply(dopt, step - c.Loss.DiscriminatorStart);
                    if (double.IsFinite(dNorm)) dopt.step();
                    else dopt.zero_grad();
                    foreach (var (k, v) in d.Logs) sums[k] = sums.GetValueOrDefault(k) + v;
                }
                sumCount++;

                long done = step + 1;
                if (done % c.LogEvery == 0 || done == c.MaxSteps)
                {
                    var record = new Dictionary<string, object?> { ["step"] = done, ["lr"] = o.LearningRate * schedule.Multiplier(step), ["elapsed_s"] = clock.Elapsed.TotalSeconds };
                    foreach (var (k, v) in sums) record[k] = v / sumCount;
                    metrics.Write(record);
                    double rate = (done - start) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"step {done}/{c.MaxSteps}  loss {sums["total_loss"] / sumCount:F5}  rec {sums["reconstruction_loss"] / sumCount:F5}  " +
                        $"distill {sums["distill_loss"] / sumCount:F5}  perc {sums["perceptual_loss"] / sumCount:F5}  gan {sums["gan_loss"] / sumCount:F4}  " +
                        $"lr {o.LearningRate * schedule.Multiplier(step):E2}  {rate:F2} step/s  eta {TimeSpan.FromSeconds((c.MaxSteps - done) / Math.Max(rate, 1e-9)):hh\\:mm\\:ss}"));
                    sums.Clear();
                    sumCount = 0;
                }
                if (validation is not null && (done % c.EvalEvery == 0 || done == c.MaxSteps))
                {
                    lastPsnr = ReconEvaluator.MeanPsnr(ae, validation);
                    metrics.Write(new Dictionary<string, object?> { ["step"] = done, ["val_psnr"] = lastPsnr });
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {done}: validation PSNR {lastPsnr:F2} dB ({c.Data.ValidationImages} images)"));
                }
                if (done % c.SaveEvery == 0 || done == c.MaxSteps || done == stopAtStep)
                    checkpoints.Save(new TrainingProgress(done, c.Seed, configJson, new Dictionary<string, double>()), state, optimizers);
                if (done == stopAtStep)
                    return new AeTrainResult(done, start, clock.Elapsed.TotalSeconds, lastPsnr, checkpoints.Latest()!);
            }
        }
        finally
        {
            validation?.Dispose();
        }
        var export = c.ExportDir ?? Path.Combine(c.OutputDir, "final");
        VgtAeModel.Save(ae, export, metadata: new Dictionary<string, string> { ["steps"] = step.ToString(CultureInfo.InvariantCulture), ["config"] = c.Name });
        log.WriteLine($"saved {export} after {step} steps ({clock.Elapsed.TotalMinutes:F1} min this run)");
        return new AeTrainResult(step, start, clock.Elapsed.TotalSeconds, lastPsnr, export);
    }
}
