using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Logging;
using Vgt.Losses;
using Vgt.Models.VgtAe;
using Vgt.Training;
using static TorchSharp.torch;
using static Vgt.Tests.VgtAe.VgtAeTestSupport;

namespace Vgt.Tests.VgtAe;

/// <summary>The AE training loop on tiny models: exact resume, VLM distillation and teacher perceptual term, groups.</summary>
public class AeTrainerTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "vgtae-train-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root) && Environment.GetEnvironmentVariable("VGT_KEEP_TEST_RUNS") is null) Directory.Delete(root, true);
    }

    private AeTrainConfig Tiny(string name) => new()
    {
        Name = name,
        Seed = 3,
        Model = TinyVlmConfig() with { NoiseStrength = 0.1 },
        Loss = AeLossConfig.Stage2 with
        {
            PerceptualLoss = "teacher", PerceptualWeight = 0, DistillWeight = 0.1, DiscriminatorStart = 1000,
            Discriminator = DiscriminatorConfig.ShapesWorld with { PoolSize = 2 },
        },
        Optimizer = new AeOptimizerConfig { LearningRate = 1e-3, WarmupSteps = 1 },
        Data = new AeDataConfig { ImageSize = 24, BatchSize = 2, ValidationImages = 2 },
        MaxSteps = 4,
        LogEvery = 1,
        SaveEvery = 100,
        EvalEvery = 100,
        OutputDir = Path.Combine(root, name),
    };

    private static Dictionary<string, Tensor> Weights(string dir)
    {
        using var ck = CheckpointReader.Open(Path.Combine(dir, "model.safetensors"));
        return ck.Names.ToDictionary(n => n, n => ck.Load(n).DetachFromDisposeScope());
    }

    [Fact]
    public void ResumeContinuesExactly()
    {
        var straight = new AeTrainer(Tiny("straight")).Run();
        Assert.Equal(4, straight.Steps);

        var config = Tiny("interrupted");
        var first = new AeTrainer(config).Run(stopAtStep: 2);
        Assert.Equal(2, first.Steps);
        Assert.Contains("--resume", Assert.Throws<ArgumentException>(() => new AeTrainer(config).Run()).Message);   // refuses to overwrite without --resume (a user error: message, no trace)
        var resumed = new AeTrainer(config).Run(resume: true);
        Assert.Equal(2, resumed.StartStep);
        Assert.Equal(4, resumed.Steps);

        // both runs logged the same losses, gradient norms and learning rates
        var la = MetricsLog.ReadAll(Path.Combine(root, "straight", "metrics.jsonl")).Where(r => r.ContainsKey("total_loss")).ToList();
        var lb = MetricsLog.ReadAll(Path.Combine(root, "interrupted", "metrics.jsonl")).Where(r => r.ContainsKey("total_loss")).ToList();
        Assert.Equal(4, la.Count);
        foreach (var key in new[] { "total_loss", "grad_norm", "lr" })
            Assert.True(la.Select(r => r[key].GetDouble()).SequenceEqual(lb.Select(r => r[key].GetDouble())),
                $"{key}: straight {string.Join(", ", la.Select(r => r[key].GetDouble()))} vs resumed {string.Join(", ", lb.Select(r => r[key].GetDouble()))}");
        var a = Weights(straight.ExportDir);
        var b = Weights(resumed.ExportDir);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (k, t) in a) Assert.True(t.eq(b[k]).all().item<bool>(), $"{k} differs after resume");

        Assert.True(la[3]["distill_loss"].GetDouble() > 0);
        Assert.Equal(la[0]["reconstruction_loss"].GetDouble(), la[0]["total_loss"].GetDouble());   // step 0: distill 0, no GAN yet
    }

    [Fact]
    public void DecoderOnlyFineTuningKeepsTheEncoderAndItsLatentsBitIdentical()
    {
        var baseRun = new AeTrainer(Tiny("base")).Run();
        var tune = Tiny("tune") with
        {
            InitFrom = baseRun.ExportDir,
            TrainDecoderOnly = true,
            Loss = Tiny("tune").Loss with { DistillWeight = 0 },
            ExportDir = Path.Combine(root, "tuned"),
        };
        var tuned = new AeTrainer(tune).Run();
        var a = Weights(baseRun.ExportDir);
        var b = Weights(tuned.ExportDir);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        int changedDecoder = 0;
        foreach (var (k, t) in a)
        {
            bool same = t.eq(b[k]).all().item<bool>();
            if (k.StartsWith("decoder.", StringComparison.Ordinal)) { if (!same) changedDecoder++; }
            else Assert.True(same, $"{k} changed although only the decoder trains");
        }
        Assert.True(changedDecoder > 0);

        // with tile jitter the encoder sees jittered images, so the same steps give another decoder; the encoder stays
        var jittered = new AeTrainer(tune with
        {
            Data = tune.Data with { TileJitter = new Vgt.Data.Augmentation.TileJitter { Tile = 8, MaxShift = 1, Probability = 1 } },
            OutputDir = Path.Combine(root, "tune-jitter"), ExportDir = Path.Combine(root, "tuned-jitter"),
        }).Run();
        var c = Weights(jittered.ExportDir);
        foreach (var (k, t) in a)
            if (!k.StartsWith("decoder.", StringComparison.Ordinal)) Assert.True(t.eq(c[k]).all().item<bool>(), $"{k} changed under tile jitter");
        Assert.Contains(b.Keys, k => k.StartsWith("decoder.", StringComparison.Ordinal) && !b[k].eq(c[k]).all().item<bool>());
        Assert.Throws<ConfigValidationException>(() => (Tiny("bad") with { TrainDecoderOnly = true }).Validate());   // no init_from
        Assert.Throws<ConfigValidationException>(() => (tune with { Loss = tune.Loss with { DistillWeight = 0.1 } }).Validate());
    }

    [Fact]
    public void EncoderOnlyInitTrainsADecoderOfAnotherSizeOnTheFinishedEncoder()
    {
        var baseRun = new AeTrainer(Tiny("enc-base")).Run();
        var bigger = Tiny("enc-big").Model with { DcAe = Tiny("enc-big").Model.DcAe with { DecoderLayersPerBlock = [2, 1, 1, 1] } };
        var tune = Tiny("enc-big") with
        {
            Model = bigger,
            InitFrom = baseRun.ExportDir,
            InitParts = AeInitParts.Encoder,
            TrainDecoderOnly = true,
            Loss = Tiny("enc-big").Loss with { DistillWeight = 0 },
        };
        // without init_encoder_only the decoder of another size is refused, naming the mismatch
        var refused = Assert.ThrowsAny<Exception>(() => new AeTrainer(tune with { InitParts = AeInitParts.All }).BuildModel());
        Assert.Contains("decoder.", refused.Message);
        var tuned = new AeTrainer(tune).Run();
        var a = Weights(baseRun.ExportDir);
        var b = Weights(tuned.ExportDir);
        foreach (var (k, t) in a.Where(kv => !kv.Key.StartsWith("decoder.", StringComparison.Ordinal)))
            Assert.True(t.eq(b[k]).all().item<bool>(), $"{k} differs from the encoder it was taken from");
        Assert.Contains(b.Keys, k => k.StartsWith("decoder.up_blocks.0.2.", StringComparison.Ordinal));     // the new layer
        Assert.DoesNotContain(a.Keys, k => k.StartsWith("decoder.up_blocks.0.2.", StringComparison.Ordinal));
        Assert.Throws<ConfigValidationException>(() => (Tiny("bad") with { InitParts = AeInitParts.Encoder }).Validate());   // no init_from
    }

    [Fact]
    public void MatchingInitWarmStartsALargerDecoderFromTheSharedTensors()
    {
        var baseRun = new AeTrainer(Tiny("grow-base")).Run();
        var baseConfig = Tiny("grow").Model;
        // one more full-resolution ResBlock and one more EfficientViT block
        var grownConfig = baseConfig with { DcAe = baseConfig.DcAe with { DecoderLayersPerBlock = [2, 1, 1, 2] } };
        var grow = Tiny("grow") with { Model = grownConfig, InitFrom = baseRun.ExportDir, InitParts = AeInitParts.Matching };
        using var grown = new AeTrainer(grow).BuildModel();
        using var fresh = new AeTrainer(grow with { InitFrom = null, InitParts = AeInitParts.All }).BuildModel();   // same seed, nothing loaded
        var file = Weights(baseRun.ExportDir);
        var sd = grown.state_dict();
        var untouched = fresh.state_dict();
        foreach (var (k, t) in sd)
        {
            if (k.StartsWith("teacher", StringComparison.Ordinal)) continue;
            if (file.TryGetValue(k, out var w)) Assert.True(t.eq(w).all().item<bool>(), $"{k} was not loaded");
            else Assert.True(t.eq(untouched[k]).all().item<bool>(), $"{k} is not in the checkpoint and should keep its fresh init");
        }
        Assert.Contains("decoder.up_blocks.0.2.conv1.weight", sd.Keys);
        Assert.DoesNotContain("decoder.up_blocks.0.2.conv1.weight", file.Keys);
        Assert.Throws<ConfigValidationException>(() => (Tiny("bad") with { InitParts = AeInitParts.Matching }).Validate());

        // the report names what was left out on each side: the new layers, and the file's tensors the grown decoder has no slot for
        using var ck = CheckpointReader.Open(Path.Combine(baseRun.ExportDir, VgtAeModel.WeightsFile));
        var report = VgtAeModel.LoadInit(fresh, ck, AeInitParts.Matching);
        Assert.Equal(sd.Keys.Where(k => k.StartsWith("decoder.", StringComparison.Ordinal) && !file.ContainsKey(k)).Order(StringComparer.Ordinal), report.FreshDecoderTensors);
        Assert.Equal(file.Keys.Where(k => k.StartsWith("decoder.", StringComparison.Ordinal) && (!sd.TryGetValue(k, out var t) || !t.shape.SequenceEqual(file[k].shape)))
            .Order(StringComparer.Ordinal), report.DroppedCheckpointTensors);
        Assert.Contains("decoder.up_blocks.0.2.conv1.weight", report.FreshDecoderTensors);
        var encoderOnly = VgtAeModel.LoadInit(fresh, ck, AeInitParts.Encoder);
        Assert.Equal(file.Keys.Where(k => k.StartsWith("decoder.", StringComparison.Ordinal)).Order(StringComparer.Ordinal), encoderOnly.DroppedCheckpointTensors);
    }

    [Fact]
    public void VlmTrainingDistillsToTheFrozenTeacherAndUsesItsFeaturesAsPerceptualTerm()
    {
        var config = new AeTrainConfig
        {
            Name = "vlm",
            Model = TinyVlmConfig() with { NoiseStrength = 0.1 },
            Loss = AeLossConfig.Stage1 with { PerceptualLoss = "teacher", PerceptualWeight = 1.0, DistillWeight = 1.0, DiscriminatorStart = 1000 },
            Optimizer = new AeOptimizerConfig { LearningRate = 1e-3, WarmupSteps = 0 },
            Data = new AeDataConfig { ImageSize = 24, BatchSize = 2, ValidationImages = 0 },
            MaxSteps = 3,
            LogEvery = 1,
            OutputDir = Path.Combine(root, "vlm"),
        };
        var trainer = new AeTrainer(config);
        using var initial = (VgtAutoencoder)trainer.BuildModel();
        var result = trainer.Run();
        var log = MetricsLog.ReadAll(Path.Combine(root, "vlm", "metrics.jsonl"));
        Assert.Equal(0.0, log[0]["distill_loss"].GetDouble());            // step 0: the student is the teacher
        Assert.True(log[2]["distill_loss"].GetDouble() > 0);              // after updates it has drifted
        Assert.True(log[0]["perceptual_loss"].GetDouble() > 0);
        // the shipped weights have no teacher; the student moved, the encoder at half the LR
        var w = Weights(result.ExportDir);
        Assert.DoesNotContain(w.Keys, k => k.StartsWith("teacher"));
        var before = initial.encoder.state_dict()["embeddings.patch_embedding.weight"];
        Assert.False(before.eq(w["encoder.embeddings.patch_embedding.weight"]).all().item<bool>());
        var cfg = ConfigJson.Load<VgtAeConfig>(Path.Combine(result.ExportDir, "config.json"));
        Assert.False(cfg.Teacher);
    }

    [Fact]
    public void ParameterGroupsScaleTheEncoderAndSkipDecayByTheReferenceRules()
    {
        using var ae = new VgtAutoencoder(TinyVlmConfig());
        var (opt, groups) = ParameterGroups.CreateAdamW(ae.TrainableParameters(), DecayRule.VgtAe(0.5), 1e-4, 1e-4);
        var byName = groups.ToDictionary(g => g.Group, g => g.Names);
        Assert.Contains("encoder.embeddings.class_embedding", byName["scaled/no_decay"]);
        Assert.Contains("encoder.encoder.layers.0.attn.qkv.weight", byName["scaled/decay"]);
        Assert.Contains("down_blocks.0.mlp.1.weight", byName["base/decay"]);
        Assert.Contains("down_blocks.0.mlp.0.weight", byName["base/no_decay"]);
        Assert.Contains("mlp1.1.bias", byName["base/no_decay"]);
        Assert.DoesNotContain(groups.SelectMany(g => g.Names), n => n.StartsWith("teacher"));
        var lrs = opt.ParamGroups.Select(g => g.LearningRate).ToList();
        Assert.Contains(5e-5, lrs);
        Assert.Contains(1e-4, lrs);
    }
}
