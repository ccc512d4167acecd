using Vgt.Cli.Commands;
using Vgt.Imaging;
using Vgt.Tests.Cli;

namespace Vgt.Tests.VgtTraining;

/// <summary>`vgt generate` and `vgt bench geneval --model` on a tiny generator made by the trainer (16 px, stride 4, 4×4 tokens).</summary>
public sealed class GenerateCliTests : IClassFixture<GenerateCliTests.TinyGenerator>, IDisposable
{
    /// <summary>One tiny generator directory for all tests of the class.</summary>
    public sealed class TinyGenerator : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("vgt-genmodel-").FullName;
        public string Model { get; }

        public TinyGenerator() => Model = TinyVgt.Generator(Root);

        public void Dispose() => Directory.Delete(Root, true);
    }

    readonly string root = Directory.CreateTempSubdirectory("vgt-gen-").FullName;
    readonly string model;

    public GenerateCliTests(TinyGenerator fixture) => model = fixture.Model;

    public void Dispose() => Directory.Delete(root, true);

    string Out(string name) => Path.Combine(root, name);

    [Fact]
    public void WritesPngsWithTheirParametersAndAGrid()
    {
        var (code, stdout, err) = CliRunner.Run("generate", "a photo of a red circle", "-o", Out("one.png"), "--model", model, "--seed", "9", "--cfg", "2.5", "--steps", "3");
        Assert.True(code == 0, err);
        Assert.Contains("wrote", stdout);
        var p = GenerationParameters.FromPng(Out("one.png"))!;
        Assert.Equal(("a photo of a red circle", 9L, 2.5, 3, 16, "tiny-vgt", "euler_maruyama"), (p.Prompt, p.Seed, p.CfgScale, p.Steps, p.Width, p.ModelId, p.Sampler));
        Assert.Equal((16, 16), (ImageFile.ReadHeader(Out("one.png")).Width, ImageFile.ReadHeader(Out("one.png")).Height));

        (code, _, err) = CliRunner.Run("generate", "a photo of a blue square", "-o", Out("many.png"), "--model", model, "--n", "3",
            "--parallel", "4", "--order", "raster", "--cfg-schedule", "constant", "--negative", "a red circle");
        Assert.True(code == 0, err);
        for (int i = 0; i < 3; i++)
        {
            var pi = GenerationParameters.FromPng(Out($"many-{i}.png"))!;
            Assert.Equal((4, "raster", "constant", "a red circle", i.ToString()), (pi.Parallel, pi.Order, pi.CfgSchedule, pi.NegativePrompt, pi.Extras["Batch index"]));
        }
        Assert.False(File.Exists(Out("many.png")));

        (code, stdout, err) = CliRunner.Run("generate", "a photo of a blue square", "-o", Out("cos.png"), "--model", model, "--parallel", "4",
            "--group-schedule", "cosine");
        Assert.True(code == 0, err);
        Assert.Contains("parallel 4 (cosine groups)", stdout);
        Assert.Equal("cosine", GenerationParameters.FromPng(Out("cos.png"))!.Extras["Group schedule"]);

        (code, _, err) = CliRunner.Run("generate", "a photo of a blue square", "-o", Out("grid.png"), "--model", model, "--n", "3", "--grid");
        Assert.True(code == 0, err);
        var h = ImageFile.ReadHeader(Out("grid.png"));
        Assert.Equal((32, 32), (h.Width, h.Height));                              // 2×2 tiles of 16 px
        Assert.Equal("2x2", GenerationParameters.FromPng(Out("grid.png"))!.Extras["Grid"]);

        (code, _, err) = CliRunner.Run("generate", "a photo of a blue square", "-o", Out("warm.png"), "--model", model, "--seed", "9", "--cfg", "2.5", "--steps", "3",
            "--temperature", "0.5", "--guidance-interval", "0.25,1", "--n", "2", "--grid");
        Assert.True(code == 0, err);
        var warm = GenerationParameters.FromPng(Out("warm.png"))!;
        Assert.Equal(("0.5", "0.25,1", "1x2"), (warm.Extras["Temperature"], warm.Extras["Guidance interval"], warm.Extras["Grid"]));
        Assert.False(GenerationParameters.FromPng(Out("one.png"))!.Extras.ContainsKey("Temperature")); // τ = 1 is not recorded as an extra
    }

    [Fact]
    public void TheShippedDefaultGeneratorNeedsNoModelOptionAndIsDeterministic()
    {
        // the README's main job: `vgt generate PROMPT -o out.png --seed S` with models/shapes-vgt
        var (code, _, err) = CliRunner.Run("generate", "a photo of a red circle", "-o", Out("d1.png"), "--seed", "1");
        Assert.True(code == 0, err);
        (code, _, err) = CliRunner.Run("generate", "a photo of a red circle", "-o", Out("d2.png"), "--seed", "1");
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Out("d1.png")), File.ReadAllBytes(Out("d2.png")));
        var p = GenerationParameters.FromPng(Out("d1.png"))!;
        Assert.Equal(("shapes-vgt", 64, 64, 1L), (p.ModelId, p.Width, p.Height, p.Seed));
    }

    [Theory]
    [InlineData("limit is max_prompt_tokens = 64", "--long")]
    [InlineData("the prompt is empty", "--empty")]
    [InlineData("not a multiple of the model's stride 4 px", "--size", "18")]
    [InlineData("exceeds the query grid: at most 16 px", "--size", "20")]
    [InlineData("K must be in [1, 16]", "--parallel", "17")]
    [InlineData("K must be in [1, 4]", "--parallel", "5", "--size", "8")]
    [InlineData("--cfg must be a finite number", "--cfg", "NaN")]
    [InlineData("--cfg must be a finite number", "--cfg", "Infinity")]
    [InlineData("--order must be random or raster", "--order", "spiral")]
    [InlineData("--temperature must be in (0, 10]", "--temperature", "0")]
    [InlineData("--temperature must be in (0, 10]", "--temperature", "NaN")]
    [InlineData("--sampler must be sde or ode", "--sampler", "heun")]
    [InlineData("--group-schedule must be uniform or cosine", "--group-schedule", "linear")]
    [InlineData("guidance interval must satisfy 0 ≤ low ≤ high ≤ 1", "--guidance-interval", "0.9,0.1")]
    public void BadInputIsRefusedNamingTheLimitAndWritesNothing(string message, params string[] extra)
    {
        string prompt = extra.Contains("--long") ? string.Join(" ", Enumerable.Repeat("a red circle", 40))
            : extra.Contains("--empty") ? "  " : "a photo of a red circle";
        var args = new List<string> { "generate", prompt, "-o", Out("bad.png"), "--model", model };
        args.AddRange(extra.Where(a => a is not ("--long" or "--empty")));
        var (code, _, err) = CliRunner.Run([.. args]);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.False(File.Exists(Out("bad.png")));
        Assert.Empty(Directory.GetFiles(root, "*.png"));
    }

    [Fact]
    public void CancelledGenerationLeavesNoFile()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var options = new GenerateCommand.GenerateOptions("a photo of a red circle", Out("cancelled.png"), 0, null, null, 1, false, model, new SamplingOverrides());
        int code = GenerateCommand.Run(options, cts.Token);
        Assert.Equal(130, code);
        Assert.Empty(Directory.GetFiles(root, "*.png"));
        Assert.Empty(Directory.GetFiles(root, "*.tmp*"));
    }

    [Fact]
    public void BenchGenEvalWithAModelWritesTheLayoutAndScores()
    {
        var metadata = Out("two.jsonl");
        File.WriteAllLines(metadata,
        [
            """{"tag": "single_object", "include": [{"class": "circle", "count": 1}], "prompt": "a photo of a circle"}""",
            """{"tag": "colors", "include": [{"class": "square", "count": 1, "color": "red"}], "prompt": "a photo of a red square"}""",
        ]);
        var (code, stdout, err) = CliRunner.Run("bench", "geneval", "--metadata", metadata, "--out", Out("bench"), "--model", model, "--images-per-prompt", "2", "--parallel", "4");
        Assert.True(code == 0, err);
        Assert.Contains("with tiny-vgt", stdout);
        Assert.Contains("parallel 4", stdout);
        Assert.True(File.Exists(Path.Combine(Out("bench"), "00001", "samples", "0001.png")));
        (code, stdout, err) = CliRunner.Run("bench", "score", Out("bench"));
        Assert.True(code == 0, err);
        Assert.Contains("images: 4 (2 prompts × 2)", stdout);

        (code, _, err) = CliRunner.Run("bench", "geneval", "--metadata", metadata, "--out", Out("bench2"), "--model", model, "--parallel", "99");
        Assert.Equal(2, code);
        Assert.Contains("K must be in [1, 16]", err);
        (code, _, err) = CliRunner.Run("bench", "geneval", "--metadata", metadata, "--out", Out("bench3"), "--model", model, "--ground-truth");
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --model", err);

        (code, stdout, err) = CliRunner.Run("bench", "geneval", "--metadata", metadata, "--out", Out("bench4"), "--model", model, "--images-per-prompt", "1",
            "--sampler", "ode", "--steps", "2", "--cfg-schedule", "linear_increasing", "--order", "raster", "--temperature", "0.8");
        Assert.True(code == 0, err);
        Assert.Contains("linear_increasing, EulerOde 2 steps, temperature 0.8", stdout);
        Assert.Contains("Raster order", stdout);
        Assert.True(File.Exists(Path.Combine(Out("bench4"), "00001", "samples", "0000.png")));
        (code, _, err) = CliRunner.Run("bench", "geneval", "--metadata", metadata, "--out", Out("bench5"), "--ground-truth", "--temperature", "0.5");
        Assert.Equal(2, code);
        Assert.Contains("apply to --model only", err);
    }
}
