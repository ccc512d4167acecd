using TorchSharp;
using Vgt.Models.FlowHead;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Tests.FlowHead;

public class SimpleMlpAdaLnTests
{
    private static readonly FlowHeadConfig Small = new()
    {
        InputDim = 8, CondDim = 12, Width = 16, Depth = 2, MlpRatio = 1.0, FreqDim = 32, Timeshift = 1.4,
        Repa = new RepaConfig { FeatureDim = 6, Depth = 1, ProjectorDim = 10 },
    };

    [Fact]
    public void StateDictHasTheReferenceNamesAndShapes()
    {
        using var scope = NewDisposeScope();
        var head = new FlowMatchingHead(Small);
        var sd = head.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = new Dictionary<string, long[]>
        {
            ["net.time_embed.mlp.0.weight"] = [16, 32], ["net.time_embed.mlp.0.bias"] = [16],
            ["net.time_embed.mlp.2.weight"] = [16, 16], ["net.time_embed.mlp.2.bias"] = [16],
            ["net.cond_embed.weight"] = [16, 12], ["net.cond_embed.bias"] = [16],
            ["net.input_proj.weight"] = [16, 8], ["net.input_proj.bias"] = [16],
            ["net.final_layer.linear.weight"] = [8, 16], ["net.final_layer.linear.bias"] = [8],
            ["net.final_layer.adaLN_modulation.1.weight"] = [32, 16], ["net.final_layer.adaLN_modulation.1.bias"] = [32],
            ["net.repa_projector.0.weight"] = [10, 16], ["net.repa_projector.0.bias"] = [10],
            ["net.repa_projector.2.weight"] = [10, 10], ["net.repa_projector.2.bias"] = [10],
            ["net.repa_projector.4.weight"] = [6, 10], ["net.repa_projector.4.bias"] = [6],
        };
        for (int k = 0; k < 2; k++)
        {
            var p = $"net.res_blocks.{k}.";
            expected[p + "in_ln.weight"] = [16]; expected[p + "in_ln.bias"] = [16];
            expected[p + "mlp.0.weight"] = [16, 16]; expected[p + "mlp.0.bias"] = [16];
            expected[p + "mlp.2.weight"] = [16, 16]; expected[p + "mlp.2.bias"] = [16];
            expected[p + "adaLN_modulation.1.weight"] = [48, 16]; expected[p + "adaLN_modulation.1.bias"] = [48];
        }
        Assert.Equal(expected.Keys.Order(), sd.Keys.Order());
        foreach (var (k, shape) in expected) Assert.True(shape.SequenceEqual(sd[k]), k);

        var noRepa = new FlowMatchingHead(Small with { Repa = null });
        Assert.DoesNotContain(noRepa.state_dict().Keys, k => k.Contains("repa"));
        Assert.Equal(expected.Count - 6, noRepa.state_dict().Count);
    }

    [Fact]
    public void OutputIsExactlyZeroAtInitialisation()
    {
        using var scope = NewDisposeScope();
        var gen = new VgtSeed(3).TorchGenerator("init");
        var head = new FlowMatchingHead(Small, gen);
        var x = randn(new long[] { 5, 8 }, generator: gen) * 3;
        var t = rand(new long[] { 5 }, generator: gen);
        var c = randn(new long[] { 5, 12 }, generator: gen) * 3;
        using var _ = no_grad();
        head.eval();
        var v = head.Net.forward(x, t, c);
        Assert.Equal(0f, v.abs().max().item<float>());
        head.train();
        var (vt, repa) = head.Net.ForwardWithRepa(x, t, c);
        Assert.Equal(0f, vt.abs().max().item<float>());
        Assert.NotNull(repa);
        Assert.True(repa!.abs().max().item<float>() > 0); // the REPA branch is xavier-initialised, not zero
    }

    [Fact]
    public void InitialisationFollowsTheReference()
    {
        using var scope = NewDisposeScope();
        var head = new FlowMatchingHead(Small with { Width = 256, CondDim = 256, FreqDim = 256 }, new VgtSeed(1).TorchGenerator("init"));
        var sd = head.state_dict();
        // time MLP N(0, 0.02)
        var te = sd["net.time_embed.mlp.2.weight"];
        Assert.InRange(te.std().item<float>(), 0.019, 0.021);
        Assert.Equal(0f, sd["net.time_embed.mlp.0.bias"].abs().max().item<float>());
        // xavier_uniform: U(−a, a), a = √(6/(fan_in + fan_out)); cond_embed 256→256 ⇒ a = √(6/512)
        var ce = sd["net.cond_embed.weight"];
        double a = Math.Sqrt(6.0 / 512);
        Assert.True(ce.abs().max().item<float>() <= a);
        Assert.InRange(ce.std().item<float>(), 0.95 * a / Math.Sqrt(3), 1.05 * a / Math.Sqrt(3));
        // adaLN-zero and zero final linear, LayerNorm (1, 0)
        foreach (var k in new[] { "net.res_blocks.1.adaLN_modulation.1.weight", "net.final_layer.adaLN_modulation.1.bias", "net.final_layer.linear.weight" })
            Assert.Equal(0f, sd[k].abs().max().item<float>());
        Assert.Equal(1f, sd["net.res_blocks.0.in_ln.weight"].min().item<float>());
        // Same generator stream ⇒ same weights.
        var again = new FlowMatchingHead(Small with { Width = 256, CondDim = 256, FreqDim = 256 }, new VgtSeed(1).TorchGenerator("init"));
        Assert.True(FlowHeadFixtures.Identical(again.state_dict()["net.input_proj.weight"], sd["net.input_proj.weight"]));
    }

    [Fact]
    public void TimestepEmbeddingIsCosFirstWithUnscaledT()
    {
        using var scope = NewDisposeScope();
        var e = TimestepEmbedder.Sinusoid(tensor(new[] { 0f, 0.5f }), 256);
        Assert.Equal(new long[] { 2, 256 }, e.shape);
        Assert.Equal(1f, e[0, 0].item<float>());   // cos(0)
        Assert.Equal(0f, e[0, 128].item<float>()); // sin(0)
        // t = 0.5, k = 1: freq = exp(−ln(1e4)/128); t is NOT multiplied by 1000.
        double arg = 0.5 * Math.Exp(-Math.Log(10000) / 128);
        Assert.Equal(Math.Cos(arg), e[1, 1].item<float>(), 6);
        Assert.Equal(Math.Sin(arg), e[1, 129].item<float>(), 6);
        Assert.Equal(Math.Cos(0.5), e[1, 0].item<float>(), 6);
    }

    [Fact]
    public void BadInputShapesAreNamed()
    {
        using var scope = NewDisposeScope();
        var net = new FlowMatchingHead(Small).Net;
        var ex = Assert.Throws<ArgumentException>(() => net.forward(zeros(3, 7), zeros(3), zeros(3, 12)));
        Assert.Contains("input_dim=8", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => net.forward(zeros(3, 8), zeros(3), zeros(3, 11)));
        Assert.Contains("cond_dim=12", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => net.forward(zeros(3, 8), zeros(2), zeros(3, 12)));
        Assert.Contains("t must be [N=3]", ex.Message);
    }
}
