using Vgt.Models.QueryAr;
using Vgt.Pipelines;
using Vgt.Sampling;
using static TorchSharp.torch;

namespace Vgt.Tests.QueryAr;

public sealed class TextToImagePipelineTests
{
    private const int Stride = 4;
    private static readonly QueryArModel Model = QueryArFixture.Model();
    private static readonly Vgt.Tokenization.Qwen2Tokenizer Tok = QueryArFixture.Tokenizer();

    private static TextToImagePipeline Pipeline(Vgt.Logging.IProgressFactory? progress = null)
        => new(Model, Tok, new RepeatDecoder(Stride, 8), progress);

    private static GenerationRequest Request(params string[] prompts) => new()
    {
        Prompts = prompts, Size = (2 * Stride, 3 * Stride), Steps = 2, Cfg = 2.0, Seed = 1,
    };

    [Fact]
    public void SameSeedSameImagesOtherSeedOtherImages()
    {
        using var a = Pipeline().Generate(Request("a cat") with { ImagesPerPrompt = 2, ParallelK = 2 });
        using var b = Pipeline().Generate(Request("a cat") with { ImagesPerPrompt = 2, ParallelK = 2 });
        using var c = Pipeline().Generate(Request("a cat") with { ImagesPerPrompt = 2, ParallelK = 2, Seed = 2 });
        Assert.Equal(new long[] { 2, 8, 2, 3 }, a.Latents.shape);
        Assert.Equal(new long[] { 2, 3, 8, 12 }, a.Images.shape);
        Assert.True(a.Latents.equal(b.Latents).all().item<bool>());
        Assert.Equal(a.Order, b.Order);
        Assert.False(a.Latents.allclose(c.Latents));
        Assert.False(a.Latents[0].allclose(a.Latents[1]));               // two images of one prompt differ
        // channel-normed latents: each position has mean 0, variance 1
        Assert.True(a.Latents.mean([1]).abs().max().item<float>() < 1e-5);
        Assert.True((a.Latents.var(1, unbiased: false) - 1).abs().max().item<float>() < 1e-3);
    }

    [Fact]
    public void ProgressCountsGroupsAndNoGuidanceUsesCondRowsOnly()
    {
        var progress = new CountingProgress();
        using var r = Pipeline(progress).Generate(Request("a cat", "a dog") with { Cfg = 1.0, ParallelK = 4, Order = GenerationOrderKind.Raster });
        Assert.Equal(("generate", 1L, 1L), (progress.Label, progress.Total, progress.Done));   // L = 6, K = 4 → one group
        Assert.Equal(Enumerable.Range(0, 6), r.Order);
        Assert.Equal(2, r.Latents.shape[0]);
        Assert.True(r.Timings.Total >= r.Timings.Llm);
    }

    [Fact]
    public void BothModesAgreeForKOneWithoutPadding()
    {
        var request = Request("a cat") with { Cfg = 1.0 };                // one row: no padding anywhere
        using var consistent = Pipeline().Generate(request);
        using var reference = Pipeline().Generate(request with { Mode = DecodingMode.ReferenceCompat });
        Assert.True(consistent.Latents.equal(reference.Latents).all().item<bool>());
        using var parallel = Pipeline().Generate(request with { ParallelK = 3 });
        using var parallelRef = Pipeline().Generate(request with { ParallelK = 3, Mode = DecodingMode.ReferenceCompat });
        Assert.False(parallel.Latents.allclose(parallelRef.Latents));     // K > 1: the modes differ
    }

    [Fact]
    public void PaddingStaysMaskedOnlyInTheConsistentMode()
    {
        // rows 0/1: the same prompts; only the content of the padding (row 1 of the cond half) differs
        var batch = PromptBatch.Build(Tok, Model.Config.Prompts, ["a cat", "a very small green house by the lake"], null, 1, true, 256);
        var ids = tensor(batch.IdsAsInt64(), [batch.Count, batch.Length]);
        var mask = tensor(batch.Mask, [batch.Count, batch.Length]);
        var otherPads = ids.where(mask, 7L);
        foreach (var mode in new[] { DecodingMode.TrainingConsistent, DecodingMode.ReferenceCompat })
        {
            var settings = new DecodingSettings
            {
                Schedule = GenerationSchedule.Raster(6, 2), Cfg = new ConstantCfg(3), Sampler = new EulerOdeSampler(), Steps = 2, Mode = mode, ParallelK = 2,
            };
            var a = QueryArDecodingLoop.Run(Model, ids, mask, [1021], 2, 3, settings, _ => new GeneratorNoise(new Generator(4)));
            var b = QueryArDecodingLoop.Run(Model, otherPads, mask, [1021], 2, 3, settings, _ => new GeneratorNoise(new Generator(4)));
            bool same = a.Tokens.allclose(b.Tokens, rtol: 0, atol: 1e-6);
            Assert.Equal(mode == DecodingMode.TrainingConsistent, same);
        }
    }

    [Fact]
    public void BadRequestsNameTheLimit()
    {
        var p = Pipeline();
        void Fails<T>(GenerationRequest r, string text) where T : Exception => Assert.Contains(text, Assert.Throws<T>(() => p.Generate(r)).Message);
        Fails<ArgumentException>(Request(), "at least one prompt");
        Fails<ArgumentException>(Request("a cat", "  "), "prompt 1 is empty");
        Fails<ArgumentException>(Request(string.Join(" ", Enumerable.Repeat("a red house", 120))), "max_prompt_tokens = 256");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { Size = (10, 12) }, "multiples of the stride 4");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { Size = (7 * Stride, 4) }, "metaquery grid 6×7");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { ParallelK = 0 }, "[1, L = 6]");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { ParallelK = 7 }, "[1, L = 6]");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { Cfg = double.NaN }, "finite");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { Cfg = double.PositiveInfinity }, "finite");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { Steps = 1 }, "steps must be >= 2");
        Fails<ArgumentOutOfRangeException>(Request("a cat") with { ImagesPerPrompt = 0 }, "images per prompt");
        Fails<ArgumentException>(Request("a cat") with { CustomOrder = [0, 1, 2, 3, 4, 4] }, "permutation of 0 … 5");
        Fails<ArgumentException>(Request("a cat") with { CfgSchedule = "cosine" }, "unknown cfg schedule");
        Assert.Throws<ArgumentException>(() => new TextToImagePipeline(Model, Tok, new RepeatDecoder(Stride, 32)));
    }

    [Fact]
    public void ParametersDescribeEachImage()
    {
        var r = Request("a cat", "a dog") with { ImagesPerPrompt = 2, Negative = "blurry", ParallelK = 3 };
        var p = r.ParametersFor(2, "vgt-tiny");
        Assert.Equal(("a dog", "blurry", 3, "euler_maruyama", "random", 12, 8), (p.Prompt, p.NegativePrompt, p.Parallel, p.Sampler, p.Order, p.Width, p.Height));
    }
}
