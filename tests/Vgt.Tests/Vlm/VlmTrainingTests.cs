using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;
using Vgt.Logging;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.Vlm;

public class VlmTrainingTests
{
    static InternVlConfig Shapes16(int vocab) => VlmTestKit.Config(vocab) with { };

    static InternVlConfig Tiny64(int vocab) => VlmTestKit.Tiny64(vocab);

    [Fact]
    public void PackedSegmentsComputeExactlyWhatSeparateSingleTurnRowsCompute()
    {
        var tok = VlmTestKit.Tokenizer;
        var config = Tiny64(tok.VocabSize);
        using var model = new InternVlModel(config, generator: new Generator(3));
        var builder = new VlmBatchBuilder(new VgtSeed(5), new VlmBatchSpec(Images: 3, SegmentsPerImage: 4, CaptionFraction: 0.5, null), tok, config);
        using var batch = builder.Build(step: 0);
        Assert.Equal(3, batch.Pixels.shape[0]);
        Assert.InRange(batch.Rows.Count, 7, 12);
        var (packedLoss, _) = VlmTrainer.Loss(model, batch, tok.ImgContext);

        // the same examples, one single-turn row each, through the ordinary forward
        using var scope = NewDisposeScope();
        var total = zeros(1);
        long count = 0;
        foreach (var row in batch.Rows)
        {
            var ids = tensor(row.Ids.Select(i => (long)i).ToArray()).unsqueeze(0);
            var logits = model.Forward(ids, batch.Pixels.narrow(0, row.Image, 1), tok.ImgContext);   // [1,T,V]
            int n = row.Ids.Length - row.PromptLength;                                                   // answer + <|im_end|>
            var predicted = logits[0].narrow(0, row.PromptLength - 1, n);
            var targets = ids[0].narrow(0, row.PromptLength, n);
            total += nn.functional.cross_entropy(predicted, targets, reduction: nn.Reduction.Sum);
            count += n;
            Assert.Equal(tok.ImEnd, row.Ids[^1]);
        }
        Assert.Equal(count, batch.Labels.ne(VlmBatchBuilder.IgnoreIndex).sum().item<long>());
        float reference = (total / count).item<float>();
        Assert.True(Math.Abs(packedLoss.item<float>() - reference) <= 1e-5f * reference, $"packed {packedLoss.item<float>()} vs rows {reference}");
    }

    [Fact]
    public void BatchesDependOnlyOnSeedAndStepAndUseTrainScenes()
    {
        var tok = VlmTestKit.Tokenizer;
        var config = Tiny64(tok.VocabSize);
        var spec = new VlmBatchSpec(4, 3, 0.5, null);
        var a = new VlmBatchBuilder(new VgtSeed(9), spec, tok, config).Examples(17);
        var b = new VlmBatchBuilder(new VgtSeed(9), spec, tok, config).Examples(17);
        var c = new VlmBatchBuilder(new VgtSeed(9), spec, tok, config).Examples(18);
        Assert.Equal(a.Select(x => x.Sample.SceneSeed), b.Select(x => x.Sample.SceneSeed));
        Assert.Equal(a.SelectMany(x => x.Qa), b.SelectMany(x => x.Qa));
        Assert.NotEqual(a.Select(x => x.Sample.SceneSeed), c.Select(x => x.Sample.SceneSeed));
        Assert.All(a, x => Assert.Equal(ShapesSplit.Train, ShapesDataset.SplitOf(x.Sample.SceneSeed)));
        Assert.All(a, x => Assert.Equal(x.Qa.Count, x.Qa.Distinct().Count()));
    }

    static VlmTrainConfig TinyRun(int steps) => new(
        Seed: 3,
        Model: Tiny64(400),
        Data: new VlmDataConfig(TokenizerScenes: 40, CaptionFraction: 0.5, SegmentsPerImage: 3),
        Optim: new VlmOptimConfig(Steps: steps, BatchSize: 2, Lr: 1e-3, WarmupSteps: 1),
        Run: new VlmRunConfig(CheckpointEvery: 2, LogEvery: 1),
        VisionWarmup: new VlmVisionWarmupConfig(Steps: 2, Lr: 1e-3, BatchSize: 2));   // resume must not repeat it

    [Fact]
    public void ResumingFromACheckpointEndsWithTheSameWeights()
    {
        var straight = VlmTestKit.TempDir();
        var split = VlmTestKit.TempDir();
        VlmTrainer.Run(TinyRun(4), straight, resume: false, NullProgress.Instance, TextWriter.Null);
        var first = VlmTrainer.Run(TinyRun(4), split, resume: false, NullProgress.Instance, TextWriter.Null, stopAfter: 2);
        Assert.Equal(2, first.Steps);
        Assert.False(Directory.Exists(Path.Combine(split, "model")));
        var e = Assert.Throws<ArgumentException>(() => VlmTrainer.Run(TinyRun(4), split, resume: false, NullProgress.Instance, TextWriter.Null));
        Assert.Contains("--resume", e.Message);
        var second = VlmTrainer.Run(TinyRun(4), split, resume: true, NullProgress.Instance, TextWriter.Null);
        Assert.Equal(4, second.Steps);

        using var a = InternVlChatModel.Load(Path.Combine(straight, "model"));
        using var b = InternVlChatModel.Load(Path.Combine(split, "model"));
        var sa = a.Model.state_dict();
        var sb = b.Model.state_dict();
        Assert.All(sa.Keys, k => Assert.True(sa[k].eq(sb[k]).all().item<bool>(), k));
        var metrics = MetricsLog.ReadAll(Path.Combine(split, "metrics.jsonl"));
        Assert.Equal([1L, 2, 3, 4], metrics.Select(m => m["step"].GetInt64()));
        Assert.Throws<ArgumentException>(() => VlmTrainer.Run(TinyRun(6), split, resume: true, NullProgress.Instance, TextWriter.Null));
    }

    [Fact]
    public void DenseWarmupLabelsNameEachObjectOnTheCellsItsBoxCoversAndAtItsCentreCell()
    {
        var prompt = ShapesPromptParser.Parse("a photo of a red circle and a blue square");
        var scene = new ShapesScene(prompt, new Rgb(220, 220, 220),
        [
            new SceneObject("circle", "red", new Rgb(215, 38, 38), X0: 2, Y0: 2, Side: 12),       // box [2,14)²: centre (8, 8)
            new SceneObject("square", "blue", new Rgb(35, 75, 215), X0: 40, Y0: 20, Side: 20),   // box [40,60)×[20,40): centre (50, 30)
        ]);
        var (shape, color, centre) = ShapesDenseLabels.Of(scene, grid: 8, canvas: 64);
        // circle: cell (0,0) is covered 6×6 = 36 ≥ 16 px²; cells (0,1), (1,0), (1,1) too (6×6 each); centre (8,8) → cell (1,1)
        Assert.Equal(1 + 0, shape[0]);
        Assert.Equal(1 + 0, color[0]);
        Assert.Equal(1 + 0, shape[1 * 8 + 1]);
        Assert.Equal(1, centre[1 * 8 + 1]);
        Assert.Equal(0, centre[0]);
        // square: columns 5..7 (x 40..60), rows 2..4 (y 20..40); cell (row 2, col 7) covers x 56..60 → 4×4 = 16 px² = a quarter
        Assert.Equal(1 + 1, shape[2 * 8 + 5]);
        Assert.Equal(1 + 4, color[2 * 8 + 5]);
        Assert.Equal(1 + 1, shape[2 * 8 + 7]);
        Assert.Equal(0, shape[5 * 8 + 5]);                                        // y 40..48: below the box
        Assert.Equal(1, centre[3 * 8 + 6]);                                       // (50, 30) → row 3, col 6
        Assert.Equal(2, centre.Sum());
        Assert.Equal(0, shape[7 * 8 + 0]);
        Assert.Equal(0, color[7 * 8 + 0]);
    }

    [Fact]
    public void GridLabelsAreRowMajorRowsAndColumnsPerImage()
    {
        var (row, col) = VisionWarmup.GridLabels(grid: 3, batch: 2);
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 1, 2, 2, 2 }, row);
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2 }, col);
        Assert.Equal(VisionWarmup.HeadOutputs + 16, VisionWarmup.HeadOutputsFor(8, positionTargets: true));
        Assert.Equal(VisionWarmup.HeadOutputs, VisionWarmup.HeadOutputsFor(8, positionTargets: false));
    }

    [Fact]
    public void PositionTargetsChangeTheWarmupAndStayReproducible()
    {
        Dictionary<string, Tensor> Warm(bool positions)
        {
            var seed = new VgtSeed(11);
            using var g = seed.TorchGenerator("init");
            var m = new InternVlModel(Tiny64(64), generator: g);
            VlmTrainer.InitialiseForScratchTraining(m, g);
            VisionWarmup.Run(m, new VlmVisionWarmupConfig(Steps: 2, Lr: 1e-3, BatchSize: 2, PositionTargets: positions), seed, null, NullProgress.Instance, TextWriter.Null);
            return m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        }
        var a = Warm(true);
        var b = Warm(true);
        var plain = Warm(false);
        const string key = "mlp1.1.weight";
        Assert.True(a[key].eq(b[key]).all().item<bool>());
        Assert.False(a[key].eq(plain[key]).all().item<bool>());
    }

    [Fact]
    public void TheVisionWarmupTrainsOnlyTheVisionTowerAndProjectorAndIsReproducible()
    {
        InternVlModel Warm()
        {
            var seed = new VgtSeed(11);
            using var g = seed.TorchGenerator("init");
            var m = new InternVlModel(Tiny64(64), generator: g);
            VlmTrainer.InitialiseForScratchTraining(m, g);
            VisionWarmup.Run(m, new VlmVisionWarmupConfig(Steps: 3, Lr: 1e-3, BatchSize: 2), seed, null, NullProgress.Instance, TextWriter.Null);
            return m;
        }
        using var a = Warm();
        using var b = Warm();
        var seed0 = new VgtSeed(11);
        using var g0 = seed0.TorchGenerator("init");
        using var fresh = new InternVlModel(Tiny64(64), generator: g0);
        VlmTrainer.InitialiseForScratchTraining(fresh, g0);
        var sa = a.state_dict();
        var sb = b.state_dict();
        var s0 = fresh.state_dict();
        Assert.All(sa.Keys, k => Assert.True(sa[k].eq(sb[k]).all().item<bool>(), k));
        Assert.False(sa["vision_model.encoder.layers.0.attn.qkv.weight"].eq(s0["vision_model.encoder.layers.0.attn.qkv.weight"]).all().item<bool>());
        Assert.False(sa["mlp1.1.weight"].eq(s0["mlp1.1.weight"]).all().item<bool>());
        Assert.True(sa["language_model.model.embed_tokens.weight"].eq(s0["language_model.model.embed_tokens.weight"]).all().item<bool>());
        Assert.Throws<ConfigValidationException>(() => new VlmVisionWarmupConfig(Steps: -1).Validate());
    }

    [Fact]
    public void TheSinCosPositionTableIsMaesLayout()
    {
        using var t = VlmTrainer.SinCosPositions(1 + 4 * 4, 8);                  // g = 4, D = 8: q = 2 channels per block
        Assert.Equal(new long[] { 1, 17, 8 }, t.shape);
        Assert.True(t[0, 0].abs().sum().item<float>() == 0);                      // class token row
        // cell (y = 1, x = 2), i = 0 (ω = 1): sin 1, cos 1, sin 2, cos 2
        var row = t[0, 1 + 1 * 4 + 2].data<float>().ToArray();
        Assert.Equal(Math.Sin(1), row[0], 6);
        Assert.Equal(Math.Cos(1), row[2], 6);
        Assert.Equal(Math.Sin(2), row[4], 6);
        Assert.Equal(Math.Cos(2), row[6], 6);
        Assert.Equal(Math.Sin(1 * Math.Pow(10000, -0.5)), row[1], 6);            // i = 1: ω = 10000^(−1/2)
        Assert.Throws<ArgumentException>(() => VlmTrainer.SinCosPositions(11, 8));
    }

    [Fact]
    public void TheShippedTrainingConfigParsesAndIsAnInternVlFamilyModel()
    {
        var path = RepoFile("configs", "shapes-vlm.json");
        var config = ConfigJson.Load<VlmTrainConfig>(path);
        Assert.Equal(64, config.Model.ImageSize);
        Assert.Equal(64, config.Model.NumImageTokens);                           // 8×8 tokens: patch 4, pixel shuffle 2
        Assert.Equal("vgt", config.Model.Template);
        Assert.True(config.Model.Llm.NumKeyValueHeads < config.Model.Llm.NumAttentionHeads);   // GQA
    }

    [Fact]
    public void TheHeldOutSetIsFixedLargeEnoughAndFromTheTestSplit()
    {
        var set = VlmEvaluation.BuildSet(new VlmEvalOptions());
        Assert.Equal(1000, set.Count(i => i.Task != VlmTask.Caption));
        Assert.Equal(500, set.Count(i => i.Task == VlmTask.Caption));
        Assert.Equal(1500, set.Select(i => i.SceneSeed).Distinct().Count());
        Assert.All(set, i => Assert.Equal(ShapesSplit.Test, ShapesDataset.SplitOf(i.SceneSeed)));
        Assert.Equal(set, VlmEvaluation.BuildSet(new VlmEvalOptions()));
        foreach (var task in new[] { VlmTask.Count, VlmTask.Color, VlmTask.Shape, VlmTask.Relation })
            Assert.True(set.Count(i => i.Task == task) >= 50, task.ToString());
        Assert.True(VlmEvaluation.Matches(" two red circles\n", "two red circles"));
        Assert.False(VlmEvaluation.Matches("two red circle", "two red circles"));
    }

    internal static string RepoFile(params string[] parts)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VGT.NET.sln"))) return Path.Combine([d.FullName, .. parts]);
        throw new DirectoryNotFoundException("repository root (VGT.NET.sln) not found");
    }
}
