using Vgt.Models.QueryAr;
using Vgt.Pipelines;
using Vgt.Sampling;
using static TorchSharp.torch;

namespace Vgt.Tests.QueryAr;

/// <summary>Known tokens (completion / inpainting) in the text-to-image pipeline.</summary>
public sealed class CompletionTests
{
    private const int Stride = 4;
    private static readonly QueryArModel Model = QueryArFixture.Model();
    private static readonly Vgt.Tokenization.Qwen2Tokenizer Tok = QueryArFixture.Tokenizer();

    private static TextToImagePipeline Pipeline() => new(Model, Tok, new RepeatDecoder(Stride, 8));

    /// <summary>2 × 3 tokens, raster order, deterministic ODE from x₀ = 0: a token's sample depends only on what it is conditioned on.</summary>
    private static GenerationRequest Request() => new()
    {
        Prompts = ["a cat"], Size = (2 * Stride, 3 * Stride), Steps = 3, Cfg = 2.0, Seed = 1, Sampler = SamplerKind.EulerOde,
        Order = GenerationOrderKind.Raster, Noise = new ZeroNoise(),
    };

    private static bool[] Given(params int[] positions) => Enumerable.Range(0, 6).Select(positions.Contains).ToArray();

    [Fact]
    public void GivenTokensAreKeptAndTheRestIsWhatPlainGenerationMakesAfterThem()
    {
        // plain generation in raster order; then the first three of its tokens given: the fourth to sixth must be
        // sampled from the same conditions (the visible cache is the training sequence either way) and so come out equal
        using var plain = Pipeline().Generate(Request());
        var tokens = LatentPatchify.Patchify(plain.Latents, 1);                              // [1, 6, 8]
        var known = new KnownTokens(tokens, Given(0, 1, 2));
        using var completed = Pipeline().Generate(Request() with { Known = known });
        var done = LatentPatchify.Patchify(completed.Latents, 1);
        Assert.Equal(Enumerable.Range(0, 6), completed.Order);
        Assert.True(done.allclose(tokens, rtol: 1e-4, atol: 1e-5));

        // other given values: given positions are copied exactly, the free ones change
        var other = randn(1, 6, 8, generator: new Generator(3));
        using var changed = Pipeline().Generate(Request() with { Known = new KnownTokens(other, Given(0, 1, 2)) });
        var got = LatentPatchify.Patchify(changed.Latents, 1);
        Assert.True(got.narrow(1, 0, 3).equal(other.narrow(1, 0, 3)).all().item<bool>());
        Assert.False(got.narrow(1, 3, 3).allclose(tokens.narrow(1, 3, 3), rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void GivenPositionsGoFirstInOneGroupAndFreeOnesKeepTheirOrder()
    {
        var known = new KnownTokens(zeros(1, 6, 8), Given(4, 1));
        var schedule = known.Reorder([5, 4, 3, 2, 1, 0], groupSize: 2);
        Assert.Equal(new[] { 4, 1, 5, 3, 2, 0 }, schedule.Order);
        Assert.Equal(new[] { new[] { 4, 1 }, new[] { 5, 3 }, new[] { 2, 0 } }, schedule.Groups);
        var all = new KnownTokens(zeros(1, 6, 8), Given(0, 1, 2, 3, 4, 5)).Reorder([0, 1, 2, 3, 4, 5], 4);
        Assert.Single(all.Groups);
        var none = new KnownTokens(zeros(1, 6, 8), Given()).Reorder([0, 1, 2, 3, 4, 5], 4);
        Assert.Equal(GenerationSchedule.Raster(6, 4).Groups, none.Groups);
        Assert.Equal(0, none.GivenAsGroups);
        // CFG progress: the given group stands for the groups plain generation would have spent on it
        Assert.Equal(2, known.Reorder([5, 4, 3, 2, 1, 0], groupSize: 1).GivenAsGroups);
        var progress = known.Reorder([5, 4, 3, 2, 1, 0], groupSize: 1).Progress(1);
        Assert.Equal(new GroupProgress(2, 6, 2, 6), progress);               // as token 3 of plain K = 1 generation
    }

    [Fact]
    public void EveryTokenGivenSamplesNothingAndReturnsThem()
    {
        var given = randn(2, 6, 8, generator: new Generator(5));
        using var r = Pipeline().Generate(Request() with { Prompts = ["a cat", "a dog"], Known = new KnownTokens(given, Given(0, 1, 2, 3, 4, 5)), Noise = null, Sampler = SamplerKind.EulerMaruyama });
        Assert.True(LatentPatchify.Patchify(r.Latents, 1).equal(given).all().item<bool>());
        Assert.Equal(TimeSpan.Zero, r.Timings.Head);
    }

    [Fact]
    public void BadKnownTokensNameTheProblem()
    {
        var p = Pipeline();
        void Fails(KnownTokens k, string text) => Assert.Contains(text, Assert.Throws<ArgumentException>(() => p.Generate(Request() with { Known = k })).Message);
        Fails(new KnownTokens(zeros(1, 6, 8), Given(0).Take(5).ToArray()), "the mask has 5 entries, the token grid 6");
        Fails(new KnownTokens(zeros(2, 6, 8), Given(0)), "must be [1, 6, 8]");
        Fails(new KnownTokens(zeros(1, 6, 8, dtype: float64), Given(0)), "float32");
        Fails(new KnownTokens(full(1, 6, 8, float.NaN), Given(0)), "NaN");
    }

    private sealed class ZeroNoise : INoiseSource
    {
        public Tensor Next(long[] shape) => zeros(shape, dtype: float32);
    }
}
