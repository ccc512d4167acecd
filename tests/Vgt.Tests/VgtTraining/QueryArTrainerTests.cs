using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Logging;
using Vgt.Pipelines;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtTraining;

public sealed class QueryArTrainerTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("vgt-train-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static Dictionary<string, Tensor> Weights(QueryArTrainer t) =>
        t.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    [Fact]
    public void ResumeAcceptsNewSamplingDefaultsButNotATrainingChange()
    {
        var config = TinyVgt.Train(root, steps: 2);
        var run = Path.Combine(root, "r");
        using (var t = new QueryArTrainer(config, run)) t.Train();
        // the exported sampling defaults do not touch the weights: a finished run can be re-exported with new ones
        var newDefaults = config with { Generation = config.Generation with { Cfg = 1.5 } };
        using (var t = new QueryArTrainer(newDefaults, run))
        {
            Assert.True(t.Resume());
            var dir = Path.Combine(root, "g");
            t.Export(dir, "tiny", "# tiny\n");
            using var g = VgtGenerator.Load(dir);
            Assert.Equal(1.5, g.Config.Defaults.Cfg);
        }
        var newOptim = config with { Optim = config.Optim with { Lr = 1e-3 } };
        using (var t = new QueryArTrainer(newOptim, run))
            Assert.Contains("only the run and generation sections", Assert.Throws<ArgumentException>(() => t.Resume()).Message);
    }

    [Fact]
    public void AMissingAeFolderIsRefusedWithWhatToRunFirst()
    {
        var missing = Path.Combine(root, "runs", "decoder", "final");
        var config = TinyVgt.Train(root, steps: 4) with { Ae = missing };
        var e = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(config, Path.Combine(root, "m")));
        Assert.Equal("ae", e.Field);
        Assert.Contains(missing, e.Message);
        Assert.Contains("vgt train ae --config", e.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "m")));   // a refused launch leaves no empty run folder behind
    }

    [Fact]
    public void ResumeContinuesBitForBit()
    {
        var config = TinyVgt.Train(root, steps: 4);
        Dictionary<string, Tensor> straight, straightEma;
        using (var a = new QueryArTrainer(config, Path.Combine(root, "a")))
        {
            a.Train();
            Assert.Equal(4, a.Step);
            straight = Weights(a);
            straightEma = a.Ema.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        }
        using (var b = new QueryArTrainer(config, Path.Combine(root, "b")))
        {
            var first = b.Train(stopAt: 3);                                    // checkpoint at 2 (interval) and 3 (stop)
            Assert.Equal((0L, 3L), (first.StartStep, first.EndStep));
        }
        using var c = new QueryArTrainer(config, Path.Combine(root, "b"));
        Assert.True(c.Resume());
        Assert.Equal(3, c.Step);
        c.Train();
        Assert.Equal(4, c.Step);
        var resumed = Weights(c);
        Assert.Equal(straight.Keys.Order(), resumed.Keys.Order());
        foreach (var (name, w) in straight)
            Assert.True(w.equal(resumed[name]).all().item<bool>(), $"{name} differs after resume");
        foreach (var (name, w) in straightEma)
            Assert.True(w.equal(c.Ema.StateDict()[name]).all().item<bool>(), $"EMA {name} differs after resume");
        using var fresh = new QueryArTrainer(config, Path.Combine(root, "d"));             // same init: training moved the weights
        Assert.False(straight["adaptive_metaquery.max_metaquery"].equal(fresh.Model.state_dict()["adaptive_metaquery.max_metaquery"]).all().item<bool>());
    }

    [Fact]
    public void TheCellProbeChangesTrainingResumesBitForBitAndStaysOutOfTheModel()
    {
        var config = TinyVgt.Train(root, steps: 4) with { CellProbe = new QueryArCellProbeConfig(Weight: 0.5) };
        Dictionary<string, Tensor> straight;
        using (var a = new QueryArTrainer(config, Path.Combine(root, "a")))
        {
            using var metrics = new MetricsLog(Path.Combine(root, "a", "metrics.jsonl"));
            a.Train(metrics);
            straight = Weights(a);
            Assert.NotNull(a.LastCellProbe);
        }
        using (var b = new QueryArTrainer(config, Path.Combine(root, "b")))
            b.Train(stopAt: 3);
        var checkpoint = Directory.GetDirectories(Path.Combine(root, "b", "checkpoints")).Order().Last();
        Assert.True(File.Exists(Path.Combine(checkpoint, "optimizer-cell-probe.bin")));
        Assert.True(File.Exists(Path.Combine(checkpoint, "extra.safetensors")));
        using (var c = new QueryArTrainer(config, Path.Combine(root, "b")))
        {
            Assert.True(c.Resume());
            c.Train();
            var resumed = Weights(c);
            foreach (var (name, w) in straight)
                Assert.True(w.equal(resumed[name]).all().item<bool>(), $"{name} differs after resume");
            Assert.DoesNotContain(resumed.Keys, k => k.Contains("probe", StringComparison.Ordinal));   // thrown away with the run
        }
        using (var plain = new QueryArTrainer(config with { CellProbe = null }, Path.Combine(root, "p")))
        {
            plain.Train();
            Assert.Null(plain.LastCellProbe);
            var w = Weights(plain);
            Assert.Contains(straight.Keys, k => !straight[k].equal(w[k]).all().item<bool>());
        }
        var rows = MetricsLog.ReadAll(Path.Combine(root, "a", "metrics.jsonl"));
        Assert.All(rows, r => Assert.True(double.IsFinite(r["cell_probe_loss"].GetDouble()) && r["cell_probe_loss"].GetDouble() > 0));
        Assert.All(rows, r => Assert.InRange(r["cell_probe_accuracy"].GetDouble(), 0, 1));
        Assert.Throws<ConfigValidationException>(() => (config with { CellProbe = new QueryArCellProbeConfig(Weight: 0) }).Validate());
    }

    [Fact]
    public void CellProbeLabelsNameTheObjectOverEachCellInRasterOrder()
    {
        var scene = ShapesSceneSampler.ForSceneSeed(4);
        var (shape, color) = CellProbe.Labels([scene, scene], grid: 4);
        Assert.Equal(32, shape.shape[0]);
        var (s, c) = (shape.data<long>().ToArray(), color.data<long>().ToArray());
        Assert.Equal(s[..16], s[16..]);
        foreach (var o in scene.Objects)
        {
            int cell = (int)(o.CenterY / 16) * 4 + (int)(o.CenterX / 16);                    // in this scene each centre cell is mostly its object
            Assert.Equal(1 + ShapesVocabulary.ShapeIndex(o.Shape), s[cell]);
            Assert.Equal(1 + ShapesVocabulary.ColorIndex(o.Color), c[cell]);
        }
        Assert.Contains(0L, s);                                                              // and some cells are empty
    }

    [Fact]
    public void LossDecreasesOnATinyPoolAndTheLatentCacheIsReused()
    {
        var config = TinyVgt.Train(root, steps: 40, scenes: 4) with
        {
            CaptionDropout = 0,
            Optim = new QueryArOptimConfig { Steps = 40, BatchSize = 4, Lr = 5e-3, EndLr = 5e-4, WarmupSteps = 3 },
            Run = new QueryArRunConfig { LogEvery = 1, CheckpointEvery = 1000, EvalEvery = 0 },
        };
        var run = Path.Combine(root, "run");
        using (var t = new QueryArTrainer(config, run))
        {
            using var metrics = new MetricsLog(Path.Combine(run, "metrics.jsonl"));
            t.Train(metrics);
        }
        var losses = MetricsLog.ReadAll(Path.Combine(run, "metrics.jsonl")).Select(r => r["loss"].GetDouble()).ToList();
        Assert.Equal(40, losses.Count);
        double early = losses.Take(10).Average(), late = losses.TakeLast(10).Average();
        Assert.True(late < 0.7 * early, $"loss did not fall: first 10 mean {early:0.000}, last 10 mean {late:0.000}");

        var log = new StringWriter();
        using var again = new QueryArTrainer(config, run, log: log);
        again.PrepareLatents();
        Assert.Contains("cached", log.ToString());
    }

    [Fact]
    public void ValidationMeasuresRandomOrdersWhateverTheTrainingOrderMixAndRasterSeparately()
    {
        var config = TinyVgt.Train(root);
        using var a = new QueryArTrainer(config, Path.Combine(root, "a"));
        using var b = new QueryArTrainer(config with { RasterFraction = 0.8 }, Path.Combine(root, "b"));
        var (va, vb) = (a.ValidationLoss(), b.ValidationLoss());
        Assert.True(double.IsFinite(va.RandomOrder) && double.IsFinite(va.RasterOrder), $"{va}");
        Assert.Equal(va, vb);                                    // same init and data: the config's order mix does not enter
        Assert.NotEqual(va.RandomOrder, va.RasterOrder);
        Assert.Equal(va, a.ValidationLoss());                    // fixed batch, fixed noise
    }

    [Fact]
    public void BatchesDependOnlyOnSeedAndStepAndVisitThePoolOncePerEpoch()
    {
        var config = TinyVgt.Train(root, scenes: 8);
        using var t = new QueryArTrainer(config, Path.Combine(root, "run"));
        var epoch0 = t.BatchIndices(0).Concat(t.BatchIndices(1)).ToArray();    // 2 batches of 4 = one epoch of 8
        Assert.Equal(Enumerable.Range(0, 8), epoch0.Order());
        var epoch1 = t.BatchIndices(2).Concat(t.BatchIndices(3)).ToArray();
        Assert.Equal(Enumerable.Range(0, 8), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(t.BatchIndices(1), t.BatchIndices(1));
        var pool = QueryArTrainer.ScenePool(config.Data);
        Assert.Equal(8, pool.Distinct().Count());
        Assert.All(pool, s => Assert.Equal(Vgt.Data.ShapesWorld.ShapesSplit.Train, Vgt.Data.ShapesWorld.ShapesDataset.SplitOf(s)));
    }

    [Fact]
    public void BadConfigsAreRefusedNamingTheLimit()
    {
        var config = TinyVgt.Train(root);
        var e1 = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(config with { Data = config.Data with { ImageSize = 18 } }, Path.Combine(root, "r1")));
        Assert.Contains("stride × latent patch size = 4", e1.Message);
        var e2 = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(config with { Data = config.Data with { ImageSize = 20 } }, Path.Combine(root, "r2")));
        Assert.Contains("5×5 token grid, larger than the metaquery grid 4×4", e2.Message);
        var e3 = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(config with { Understanding = new QueryArUnderstandingConfig { Every = 4 } }, Path.Combine(root, "r3")));
        Assert.Contains("understanding.every", e3.Message);
        Assert.Contains("needs init_from", e3.Message);
        var e4 = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(config with { RasterFraction = 1.5 }, Path.Combine(root, "r4")));
        Assert.Contains("raster_fraction", e4.Message);
        // the committed config parses and validates
        var shipped = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "configs", "shapes-vgt.json");
        var parsed = ConfigJson.Load<QueryArTrainConfig>(shipped);
        Assert.Equal(0.1, parsed.CaptionDropout);
    }

    [Fact]
    public void CaptionsBecomePromptsWithThePrefix()
    {
        var config = TinyVgt.Train(root) with { Data = TinyVgt.Train(root).Data with { CaptionProbability = 1, CaptionPrefix = "a photo of " } };
        using var t = new QueryArTrainer(config, Path.Combine(root, "a"));
        var scene = ShapesSceneSampler.ForSceneSeed(7);
        Assert.Equal("a photo of " + ShapesText.Caption(scene), t.TextOf(scene, new Random(1)));
        using var never = new QueryArTrainer(TinyVgt.Train(root), Path.Combine(root, "b"));   // caption_probability 0: the prompt
        Assert.Equal(scene.Prompt.Text, never.TextOf(scene, new Random(1)));
        // a two-object caption with the prefix is worded as a color_attr prompt
        var two = Enumerable.Range(0, 200).Select(i => ShapesSceneSampler.ForSceneSeed(i)).First(s => s.Prompt.Tag == "two_object");
        Assert.Matches("^a photo of an? [a-z]+ [a-z]+ and an? [a-z]+ [a-z]+$", t.TextOf(two, new Random(1)));
    }

    [Fact]
    public void RasterNameOrderNamesTheObjectTheTokenScanMeetsFirstFirst()
    {
        var data = TinyVgt.Train(root).Data;                                   // a 4 × 4 token grid: tiles of 16 canvas units (scene boxes are in the 64-unit canvas whatever the image size)
        using var prompts = new QueryArTrainer(TinyVgt.Train(root) with { Data = data with { RasterNameOrder = true } }, Path.Combine(root, "p"));
        using var captions = new QueryArTrainer(TinyVgt.Train(root) with { Data = data with { RasterNameOrder = true, CaptionProbability = 1, CaptionPrefix = "a photo of " } }, Path.Combine(root, "c"));
        using var plain = new QueryArTrainer(TinyVgt.Train(root), Path.Combine(root, "o"));
        var scenes = Enumerable.Range(0, 300).Select(i => ShapesSceneSampler.ForSceneSeed(i)).ToList();
        int reordered = 0, checkedScenes = 0;
        foreach (var scene in scenes.Where(s => s.Prompt.Tag is "two_object" or "color_attr"))
        {
            var (first, second) = ShapesText.RasterOrderedPair(scene, 16)!.Value;
            Assert.True(first.Y0 / 16 <= second.Y0 / 16);                            // its top edge is in an earlier or the same tile row
            bool colours = scene.Prompt.Tag == "color_attr";
            string expected = $"a photo of {ShapesPrompt.Np(colours ? first.Color : null, first.Shape)} and {ShapesPrompt.Np(colours ? second.Color : null, second.Shape)}";
            Assert.Equal(expected, prompts.TextOf(scene, new Random(1)));
            Assert.Equal($"a photo of {ShapesPrompt.Np(first.Color, first.Shape)} and {ShapesPrompt.Np(second.Color, second.Shape)}", captions.TextOf(scene, new Random(1)));
            if (expected != scene.Prompt.Text) reordered++;
            Assert.Equal(scene.Prompt.Text, plain.TextOf(scene, new Random(1)));   // off by default
            checkedScenes++;
        }
        Assert.True(checkedScenes > 50 && reordered > checkedScenes / 5, $"{reordered} of {checkedScenes} reordered");
        // other scenes keep their prompt and caption
        foreach (var scene in scenes.Where(s => s.Prompt.Tag is "counting" or "position" or "single_object").Take(20))
        {
            Assert.Equal(scene.Prompt.Text, prompts.TextOf(scene, new Random(1)));
            if (scene.Objects.Count != 2 || scene.Objects[0].Shape == scene.Objects[1].Shape)
                Assert.Equal("a photo of " + ShapesText.Caption(scene), captions.TextOf(scene, new Random(1)));
        }
        // a lower square on the left against a higher circle on the right: the circle is met first
        var lowLeft = new SceneObject("square", "red", new Rgb(215, 38, 38), 2, 40, 14);
        var highRight = new SceneObject("circle", "blue", new Rgb(35, 75, 215), 40, 4, 14);
        var pair = ShapesText.RasterOrderedPair(new ShapesScene(ShapesPrompt.TwoObject("square", "circle"), new Rgb(240, 240, 240), [lowLeft, highRight]), 16)!.Value;
        Assert.Equal(("circle", "square"), (pair.First.Shape, pair.Second.Shape));
        // the same tile row: the tile column of the first top pixel decides (the circle's top is at its centre column)
        var squareRight = new SceneObject("square", "red", new Rgb(215, 38, 38), 20, 2, 14);
        var circleLeft = new SceneObject("circle", "blue", new Rgb(35, 75, 215), 2, 4, 14);
        pair = ShapesText.RasterOrderedPair(new ShapesScene(ShapesPrompt.TwoObject("square", "circle"), new Rgb(240, 240, 240), [squareRight, circleLeft]), 16)!.Value;
        Assert.Equal(("circle", "square"), (pair.First.Shape, pair.Second.Shape));
        var circleMid = circleLeft with { X0 = 12 };                                  // top pixel at x = 19: tile 1, with the square's corner
        pair = ShapesText.RasterOrderedPair(new ShapesScene(ShapesPrompt.TwoObject("square", "circle"), new Rgb(240, 240, 240), [squareRight, circleMid]), 16)!.Value;
        Assert.Equal(("circle", "square"), (pair.First.Shape, pair.Second.Shape));   // same tile: the left edge decides
    }

    [Fact]
    public void TwoObjectCaptionsBecomeRelationsThatTheJudgeConfirms()
    {
        var config = TinyVgt.Train(root) with { Data = TinyVgt.Train(root).Data with { CaptionProbability = 1, CaptionPrefix = "a photo of ", RelationCaptionProbability = 1 } };
        using var t = new QueryArTrainer(config, Path.Combine(root, "r"));
        var scenes = Enumerable.Range(0, 400).Select(i => ShapesSceneSampler.ForSceneSeed(i)).ToList();
        var rng = new Random(5);
        int relations = 0, coloured = 0;
        foreach (var scene in scenes.Where(s => s.Prompt.Tag is "position" or "two_object" or "color_attr"))
        {
            string text = t.TextOf(scene, rng);
            var m = System.Text.RegularExpressions.Regex.Match(text, "^a photo of an? (?:([a-z]+) )?([a-z]+) (left of|right of|above|below) an? (?:([a-z]+) )?([a-z]+)$");
            if (!m.Success) { Assert.Equal("a photo of " + ShapesText.Caption(scene), text); continue; }   // no relation holds
            relations++;
            if (m.Groups[1].Success) coloured++;
            var a = scene.Objects.Single(o => o.Shape == m.Groups[2].Value && (!m.Groups[1].Success || o.Color == m.Groups[1].Value));
            var b = scene.Objects.Single(o => o.Shape == m.Groups[5].Value && (!m.Groups[4].Success || o.Color == m.Groups[4].Value));
            Assert.Contains(m.Groups[3].Value, ShapesSceneSampler.RelationsBetween(a, b));   // the judge's rule holds
            if (scene.Prompt.Tag == "position") Assert.NotEqual(a, b);
        }
        Assert.True(relations > 100, $"only {relations} relation captions");
        Assert.InRange(coloured, relations / 4, 3 * relations / 4);                         // about half name the colours
        // one object, or two of one shape: the plain caption
        foreach (var scene in scenes.Where(s => s.Objects.Count != 2 || s.Objects[0].Shape == s.Objects[1].Shape).Take(20))
        {
            Assert.Null(ShapesText.RelationCaption(scene, rng));
            Assert.Equal("a photo of " + ShapesText.Caption(scene), t.TextOf(scene, rng));
        }
    }

    [Fact]
    public void ExportedGeneratorLoadsAndGeneratesWithTheEmaWeights()
    {
        var dir = TinyVgt.Generator(root);
        using var g = VgtGenerator.Load(dir);
        Assert.Equal(("tiny-vgt", 4, 16), (g.Name, g.PixelStride, g.MaxSize));
        Assert.True(File.Exists(Path.Combine(dir, "ae", "model.safetensors")));
        using var r = g.Generate(g.Request(["a photo of a red circle"]) with { Seed = 3 });
        Assert.Equal(new long[] { 1, 3, 16, 16 }, r.Images.shape);
        using var r2 = g.Generate(g.Request(["a photo of a red circle"]) with { Seed = 3 });
        Assert.True(r.Images.equal(r2.Images).all().item<bool>());
        // the weights on disk are the EMA's, which differ from the live weights after 2 steps with start step 1
        using var ck = Vgt.Checkpoints.CheckpointReader.Open(Path.Combine(dir, "model.safetensors"));
        var onDisk = ck.Load("image_out_projector.weight", null);
        Assert.True(onDisk.equal(g.Model.state_dict()["image_out_projector.weight"]).all().item<bool>());

        // the recipe travels with the weights: the whole training config, and the data/order knobs in the provenance
        var trained = TinyVgt.Train(root, steps: 2);
        var written = ConfigJson.Load<QueryArTrainConfig>(Path.Combine(dir, QueryArTrainer.TrainingConfigFile));
        Assert.Equal(ConfigJson.Serialize(trained), ConfigJson.Serialize(written));
        Assert.Equal(("2", "0", "1", "0", "false", QueryArTrainer.TrainingConfigFile),
            (g.Config.Provenance["steps"], g.Config.Provenance["raster_fraction"], g.Config.Provenance["head_batch_mul"],
             g.Config.Provenance["relation_caption_probability"], g.Config.Provenance["raster_name_order"], g.Config.Provenance["training_config"]));

        Directory.Delete(Path.Combine(dir, "ae"), true);
        var e = Assert.Throws<DirectoryNotFoundException>(() => VgtGenerator.Load(dir));
        Assert.Contains("lacks its AE folder 'ae/'", e.Message);
        Assert.Throws<FileNotFoundException>(() => VgtGenerator.Load(root));
    }
}
