using TorchSharp;
using Vgt.Config;
using Vgt.Models.Qwen2;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

public class Qwen2ParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private void Check(string what, Tensor actual, Tensor expected)
    {
        var err = VlmFixture.RelErr(actual, expected);
        output.WriteLine($"qwen2 {what}: rel err {err:E2}");
        Assert.True(err <= Tolerance, $"{what}: rel err {err:E2} > {Tolerance:E0}");
    }

    private static Qwen2ForCausalLM Load(VlmFixture fx)
    {
        var config = ConfigJson.Deserialize<Qwen2Config>(fx.Metadata["config"], "qwen2 fixture");
        Assert.Equal(2, config.KvGroups);
        Assert.NotEqual(config.HiddenSize / config.NumAttentionHeads, config.ResolvedHeadDim);
        var lm = new Qwen2ForCausalLM(config);
        fx.LoadInto(lm);
        lm.eval();
        return lm;
    }

    [Fact]
    public void DecoderBlockMatchesReference()
    {
        using var fx = VlmFixture.Load("qwen2.safetensors");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var lm = Load(fx);
        var (cos, sin) = lm.Model.Rotary.forward(fx["in.block_pos"]);
        var allowed = AttentionMask.CausalWithPadding(null, 2, 5, 0, CPU);
        Check("block", lm.Model.Layer(0).Forward(fx["in.block_x"], cos, sin, allowed, null), fx["out.block"]);
    }

    [Fact]
    public void PaddedFullPassMatchesReference()
    {
        using var fx = VlmFixture.Load("qwen2.safetensors");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var lm = Load(fx);
        var hidden = lm.Model.Forward(fx["in.embeds"], fx["in.positions"], fx["in.mask"]);
        Check("hidden (right padding, VGT positions)", hidden, fx["out.hidden"]);
        Check("logits", lm.Logits(hidden), fx["out.logits"]);
        var ids = fx["in.ids"];
        Check("token ids, default positions", lm.Model.Forward(lm.Model.Embed(ids)), fx["out.ids_hidden"]);
    }

    [Fact]
    public void CachedChunksEqualOneFullPass()
    {
        using var fx = VlmFixture.Load("qwen2.safetensors");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var lm = Load(fx);
        Tensor embeds = fx["in.embeds"], positions = fx["in.positions"], mask = fx["in.mask"];
        var full = lm.Model.Forward(embeds, positions, mask);
        using var cache = lm.Model.NewCache();
        var parts = new List<Tensor>();
        long start = 0;
        foreach (long n in new long[] { 4, 1, 3 })   // prefill the padded prompt, then chunks of 1 and 3
        {
            using var step = NewDisposeScope();
            var h = lm.Model.Forward(embeds.narrow(1, start, n), positions.narrow(1, start, n), mask.narrow(1, 0, start + n), cache);
            parts.Add(h.MoveToOuterDisposeScope());
            start += n;
            Assert.Equal(start, cache.Length);
        }
        var cached = cat(parts, 1);
        Check("cached (4 + 1 + 3) vs reference full pass", cached, fx["out.hidden"]);
        var self = VlmFixture.RelErr(cached, full);
        output.WriteLine($"qwen2 cached vs C# full pass: rel err {self:E2}");
        Assert.True(self <= 1e-5, $"cached vs full rel err {self:E2}");
    }

    [Fact]
    public void PromptPaddingStaysMaskedInCachedSteps()
    {
        using var fx = VlmFixture.Load("qwen2.safetensors");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var lm = Load(fx);
        Tensor embeds = fx["in.embeds"], positions = fx["in.positions"], mask = fx["in.mask"];
        using var cache = lm.Model.NewCache();
        lm.Model.Forward(embeds.narrow(1, 0, 4), positions.narrow(1, 0, 4), mask.narrow(1, 0, 4), cache);
        var masked = lm.Model.Forward(embeds.narrow(1, 4, 1), positions.narrow(1, 4, 1), mask.narrow(1, 0, 5), cache);
        using var cache2 = lm.Model.NewCache();
        lm.Model.Forward(embeds.narrow(1, 0, 4), positions.narrow(1, 0, 4), mask.narrow(1, 0, 4), cache2);
        var unmasked = lm.Model.Forward(embeds.narrow(1, 4, 1), positions.narrow(1, 4, 1), null, cache2);   // the reference VGT quirk
        // row 0 has no padding: identical; row 1 has two pad keys in its prefix: different once they are visible
        Assert.True(masked[0].allclose(unmasked[0], rtol: 1e-6, atol: 1e-6));
        Assert.True(VlmFixture.RelErr(masked[1], unmasked[1]) > 1e-2);
        Assert.True(VlmFixture.RelErr(masked, fx["out.hidden"].narrow(1, 4, 1)) <= Tolerance);
    }
}
