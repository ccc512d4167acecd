using Vgt.Pipelines;
using Vgt.Sampling;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.QueryAr;

/// <summary>Full small generations against the PyTorch reference (fixed order and pre-drawn noise).</summary>
public sealed class GenerationParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("ref_k1")]
    [InlineData("ref_k6")]
    [InlineData("cons_k1")]
    [InlineData("cons_k6")]
    [InlineData("cons_k4_ode")]
    public void LatentsMatchReference(string name)
    {
        using var scope = NewDisposeScope();
        var (t, meta) = QueryArFixture.Read($"gen_{name}.safetensors");
        var c = QueryArFixture.CaseOf(meta);
        var model = QueryArFixture.Model();
        var tokenizer = QueryArFixture.Tokenizer();
        var grid = c.GetProperty("grid").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        const int stride = 4;
        var request = new GenerationRequest
        {
            Prompts = c.GetProperty("prompts").EnumerateArray().Select(e => e.GetString()!).ToList(),
            Negative = c.GetProperty("negative").ValueKind == System.Text.Json.JsonValueKind.Null ? null : c.GetProperty("negative").GetString(),
            ImagesPerPrompt = c.GetProperty("per_prompt").GetInt32(),
            Cfg = c.GetProperty("cfg").GetDouble(),
            CfgSchedule = c.GetProperty("cfg_schedule").GetString()!,
            Steps = c.GetProperty("steps").GetInt32(),
            Sampler = c.GetProperty("sampler").GetString() == "sde" ? SamplerKind.EulerMaruyama : SamplerKind.EulerOde,
            ParallelK = c.GetProperty("k").GetInt32(),
            Mode = c.GetProperty("mode").GetString() == "reference_compat" ? DecodingMode.ReferenceCompat : DecodingMode.TrainingConsistent,
            CustomOrder = t["in.order"].data<long>().Select(i => (int)i).ToArray(),
            Size = (grid[0] * stride, grid[1] * stride),
            Noise = new FixedNoise(t["in.noise"].split(t["in.noise_rows"].data<long>().ToArray(), 0)),
        };

        // batch building: the same ids and mask as the reference tokenizer + template + padding
        var batch = PromptBatch.Build(tokenizer, model.Config.Prompts, request.Prompts, request.Negative, request.ImagesPerPrompt, request.Cfg != 1, 256);
        Assert.Equal(t["in.ids"].data<long>().ToArray(), batch.IdsAsInt64());
        Assert.Equal(t["in.mask"].data<bool>().ToArray(), batch.Mask);

        var decoder = new RepeatDecoder(stride, model.Config.LatentChannels);
        using var result = new TextToImagePipeline(model, tokenizer, decoder).Generate(request);
        double err = QueryArFixture.RelErr(result.Latents, t["out.latents"]);
        output.WriteLine($"{name}: latents rel err {err:E2}; {result.Timings}");
        Assert.True(err <= QueryArFixture.Tolerance, $"{name}: rel err {err}");
        Assert.Equal(0, ((FixedNoise)request.Noise).Remaining);
        Assert.Equal(new long[] { request.Prompts.Count * request.ImagesPerPrompt, 3, grid[0] * stride, grid[1] * stride }, result.Images.shape);
    }
}
