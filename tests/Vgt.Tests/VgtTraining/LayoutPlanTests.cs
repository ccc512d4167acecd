using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Models.QueryAr;
using Vgt.Pipelines;
using Vgt.Tokenization;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtTraining;

/// <summary>The layout plan written before the image (<see cref="LayoutPlanConfig"/>): data, loss, planner, pipeline, training.</summary>
public sealed class LayoutPlanTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("vgt-plan-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static readonly LayoutPlanConfig Plan = new() { MaxTokens = 24, LossWeight = 0.5, Temperature = 1.0 };

    static QueryArTrainConfig Config(string root, int steps = 4) => TinyVgt.Train(root, steps) with { Model = TinyVgt.Model() with { Plan = Plan } };

    static SceneObject Obj(string shape, string color, int x0, int y0, int side) => new(shape, color, new Rgb(1, 2, 3), x0, y0, side);

    [Fact]
    public void ThePlanListsObjectsInRasterTokenOrderWithCellsAndSizeClasses()
    {
        // the circle's top (y 10) is in token row 0 like the square's (y 3), but its apex column (x 40+9=49 → 3) is after
        // the square's left corner (x 20 → 1); the diamond starts in token row 2
        var scene = new ShapesScene(ShapesPrompt.Counting("circle", 2), new Rgb(255, 255, 255),
            [Obj("diamond", "green", 4, 40, 20), Obj("circle", "red", 40, 10, 18), Obj("square", "blue", 20, 3, 12)]);
        string text = ShapesLayoutPlan.Text(scene, tokenPixels: 16);
        // square: centre (26, 9) → cells (3, 1), side 12 → class 0; circle: (49, 19) → (6, 2), 18 → 2; diamond: (14, 50) → (1, 6), 20 → 2
        Assert.Equal("blue square 310, red circle 622, green diamond 162", text);
        var parsed = ShapesLayoutPlan.Parse(text)!;
        Assert.Equal(new PlannedObject("red", "circle", 6, 2, 2), parsed[1]);
        Assert.Equal(3, parsed.Count);
        foreach (var bad in new[] { "", "blue square 31", "blue cube 310", "teal square 310", "blue square 390", "blue square 313", "blue square 310,red circle 622" })
            Assert.Null(ShapesLayoutPlan.Parse(bad));
    }

    [Fact]
    public void TargetsTeachThePlanThenTheImageStartAndSkipUnconditionalRows()
    {
        int[] p0 = [10, 11, 12], plan0 = [20, 21];
        int[] p1 = [10, 13];
        var (batch, targets) = LayoutPlanTargets.Build([p0, p1], [plan0, null], imageStartId: 99);
        Assert.Equal(5, batch.Length);
        Assert.Equal(new[] { 10, 11, 12, 20, 21 }, batch.Row(0));
        Assert.Equal(new[] { 10, 13 }, batch.Row(1));
        const long I = QueryArLoss.IgnoreTarget;
        // row 0: the last prompt token predicts the plan's first, the plan's last predicts <img>
        Assert.Equal(new long[] { I, I, 20, 21, 99, I, I, I, I, I }, targets);
        Assert.Throws<ArgumentException>(() => LayoutPlanTargets.Build([p0], [plan0, null], 99));
    }

    [Fact]
    public void TheLossAddsTheWeightedCrossEntropyOfThePlanTokensOnly()
    {
        using var model = new QueryArModel(TinyVgt.Model() with { Plan = Plan }, new Generator(2));
        var latents = randn(2, TinyVgt.Channels, 4, 4, generator: new Generator(4));
        var (batch, targets) = LayoutPlanTargets.Build([[5, 6, 7], [5, 8]], [[30, 31], null], imageStartId: 11);
        var ids = tensor(batch.IdsAsInt64(), [2, batch.Length]);
        var mask = tensor(batch.Mask, [2, batch.Length]);
        var t = tensor(targets, [2, batch.Length]);
        var options = new QueryArLossOptions { ImageStartIds = [11], FixedPermutation = arange(16) };
        var r = QueryArLoss.Compute(model, latents, ids, mask, new Generator(9), options with { PlanTargets = t });
        var plain = QueryArLoss.Compute(model, latents, ids, mask, new Generator(9), options);
        Assert.Null(plain.PlanLoss);
        Assert.Equal(plain.FlowLoss.item<float>(), r.FlowLoss.item<float>(), 6);                 // the plan loss does not touch the flow loss
        Assert.Equal(r.FlowLoss.item<float>() + 0.5f * r.PlanLoss!.item<float>(), r.Loss.item<float>(), 5);

        // by hand: the decoder over [prompt+plan, <img>, …] is causal, so the text prefix's hidden states are those of the text alone
        var hidden = model.Decoder.Forward(model.EmbedText(ids.narrow(0, 0, 1)));             // row 0 has no padding
        var logits = nn.functional.linear(hidden[0], model.Decoder.EmbedTokens.Weight);       // [5, V]
        var predicted = logits.index_select(0, tensor(new long[] { 2, 3, 4 }));
        var expected = nn.functional.cross_entropy(predicted, tensor(new long[] { 30, 31, 11 }));
        Assert.Equal(expected.item<float>(), r.PlanLoss.item<float>(), 4);

        using var noPlan = new QueryArModel(TinyVgt.Model(), new Generator(2));
        Assert.Throws<ArgumentException>(() => QueryArLoss.Compute(noPlan, latents, ids, mask, new Generator(9), options with { PlanTargets = t }));
    }

    [Fact]
    public void ThePlannerMatchesUncachedDecodingAndOneSeedFixesItsSamples()
    {
        using var model = new QueryArModel(TinyVgt.Model() with { Plan = Plan }, new Generator(3));
        model.eval();
        int[] prompt = [5, 6, 7, 8];
        var greedy = LayoutPlanner.Plan(model, prompt, imageStartId: 11, maxTokens: 6, temperature: 0, new Generator(1));
        // the same greedy decode without a cache: the whole sequence every step
        var ids = prompt.ToList();
        var manual = new List<int>();
        using (no_grad())
            while (manual.Count < 6)
            {
                var h = model.Decoder.Forward(model.EmbedText(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0)));
                int next = (int)nn.functional.linear(h[0, -1], model.Decoder.EmbedTokens.Weight).argmax().item<long>();
                if (next == 11) break;
                manual.Add(next);
                ids.Add(next);
            }
        Assert.Equal(manual, greedy);
        Assert.True(greedy.Length <= 6);
        var a = LayoutPlanner.Plan(model, prompt, 11, 6, 1.0, new Generator(7));
        var b = LayoutPlanner.Plan(model, prompt, 11, 6, 1.0, new Generator(7));
        Assert.Equal(a, b);
        // a marker the model predicts first ends the plan at once
        int first = greedy.Length > 0 ? greedy[0] : 11;
        Assert.Empty(LayoutPlanner.Plan(model, prompt, first, 6, 0, new Generator(1)));
        Assert.Throws<ArgumentException>(() => LayoutPlanner.Plan(model, [], 11, 6, 0, new Generator(1)));
    }

    [Fact]
    public void TrainingWithAPlanLogsItsLossExportsItAndTheGeneratorPlansDeterministically()
    {
        var dir = Path.Combine(root, "generator");
        using (var t = new QueryArTrainer(Config(root), Path.Combine(root, "run")))
        {
            using (var metrics = new Vgt.Logging.MetricsLog(Path.Combine(root, "run", "metrics.jsonl"))) t.Train(metrics);
            Assert.NotNull(t.LastPlan);
            Assert.InRange(t.LastPlan!.Value.Loss, 0.01, 20);
            t.Export(dir, "tiny-plan", "# tiny-plan\n");
        }
        Assert.Contains("plan_loss", File.ReadAllText(Path.Combine(root, "run", "metrics.jsonl")));
        using var g = VgtGenerator.Load(dir);
        Assert.Equal(Plan, g.Config.QueryAr.Plan);
        var request = g.Request(["a photo of a red circle"]) with { Seed = 3, ImagesPerPrompt = 2 };
        using var a = g.Generate(request);
        using var b = g.Generate(request);
        Assert.Equal(2, a.Plans!.Count);
        Assert.Equal(a.Plans, b.Plans);
        Assert.True(a.Images.equal(b.Images).all().item<bool>());

        using var given = g.Generate(request with { Layout = "red circle 332" });
        Assert.Equal(["red circle 332", "red circle 332"], given.Plans!);
        using var greedy = g.Generate(request with { PlanTemperature = 0 });
        Assert.Equal(greedy.Plans![0], greedy.Plans[1]);                                   // greedy: one layout per prompt
        Assert.Equal("0", (request with { PlanTemperature = 0 }).ParametersFor(0).Extras["Plan temperature"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Generate(request with { PlanTemperature = double.NaN }));
        Assert.Throws<ArgumentException>(() => g.Generate(request with { Layout = " " }));
        Assert.Throws<ArgumentException>(() => g.Generate(request with { Layout = string.Concat(Enumerable.Repeat("red circle 332, ", 20)) }));

        // a benchmark image keeps its plan in a PNG text chunk, so failures can be told apart: a wrong plan or a wrong drawing
        var meta = Path.Combine(root, "meta.jsonl");
        File.WriteAllText(meta, "{\"tag\": \"single_object\", \"include\": [{\"class\": \"circle\", \"count\": 1}], \"prompt\": \"a photo of a circle\"}\n");
        Vgt.Evaluation.GenEvalLayout.Write(meta, Path.Combine(root, "bench"), g, imagesPerPrompt: 1, seed: 0);
        var text = Vgt.Imaging.PngText.Read(Path.Combine(root, "bench", "00000", "samples", "0000.png"));
        using var same = g.Generate(g.BenchRequest with { Prompts = ["a photo of a circle"], Seed = 0 });
        Assert.Equal(same.Plans![0], text[VgtGenerator.LayoutPlanKey]);
    }

    [Fact]
    public void TheCliPrintsThePlanDrawsAGivenLayoutAndRefusesOneForAModelWithoutAPlan()
    {
        var dir = Path.Combine(root, "generator");
        using (var t = new QueryArTrainer(Config(root, steps: 2), Path.Combine(root, "run")))
        {
            t.Train();
            t.Export(dir, "tiny-plan", "# tiny-plan\n");
        }
        var png = Path.Combine(root, "a.png");
        var (code, output, err) = Cli.CliRunner.Run("generate", "a photo of a red circle", "--model", dir, "-o", png, "--layout", "red circle 332");
        Assert.True(code == 0, err);
        Assert.Contains("layout plan: red circle 332", output);
        Assert.Contains("red circle 332", string.Join("\n", Vgt.Imaging.PngText.Read(png).Values));

        var plain = TinyVgt.Generator(Path.Combine(root, "plain"));
        (code, _, err) = Cli.CliRunner.Run("generate", "a photo of a red circle", "--model", plain, "-o", Path.Combine(root, "b.png"), "--layout", "red circle 332");
        Assert.NotEqual(0, code);
        Assert.Contains("layout plan", err);
        Assert.False(File.Exists(Path.Combine(root, "b.png")));
    }

    [Fact]
    public void AModelWithoutAPlanRefusesPlanSettingsAndPlansNeedTiedEmbeddings()
    {
        var dir = TinyVgt.Generator(root);
        using var g = VgtGenerator.Load(dir);
        var request = g.Request(["a photo of a red circle"]);
        using (var r = g.Generate(request)) Assert.Null(r.Plans);
        Assert.Throws<ArgumentException>(() => g.Generate(request with { Layout = "red circle 332" }));
        Assert.Throws<ArgumentException>(() => g.Generate(request with { PlanTemperature = 0.5 }));

        var untied = TinyVgt.Model() with { Llm = TinyVgt.Model().Llm with { TieWordEmbeddings = false }, Plan = Plan };
        Assert.Contains("tie_word_embeddings", Assert.Throws<ConfigValidationException>(untied.Validate).Message);
        var tooLong = TinyVgt.Model() with { Plan = Plan with { MaxTokens = 64 } };
        Assert.Contains("plan.max_tokens", Assert.Throws<ConfigValidationException>(tooLong.Validate).Message);
        Assert.Throws<ConfigValidationException>((TinyVgt.Model() with { Plan = Plan with { Temperature = -1 } }).Validate);
    }
}
