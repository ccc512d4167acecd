using Vgt.Models.FlowHead;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Tests.FlowHead;

public class FlowMatchingHeadTests
{
    private static readonly FlowHeadConfig Small = new()
    {
        InputDim = 8, CondDim = 12, Width = 16, Depth = 2, FreqDim = 32, Timeshift = 1.4,
        Repa = new RepaConfig { FeatureDim = 6, Depth = 2, ProjectorDim = 10 },
    };

    private static FlowMatchingHead NonZeroHead()
    {
        var head = new FlowMatchingHead(Small, new VgtSeed(5).TorchGenerator("init"));
        var g = new VgtSeed(5).TorchGenerator("perturb");
        using var _ = no_grad();
        foreach (var (_, p) in head.named_parameters()) p.add_(randn(p.shape, generator: g) * 0.05);
        return head;
    }

    [Fact]
    public void TimeShiftMatchesAppendixB()
    {
        Assert.Equal(0.416667, FlowTime.Shift(0.5, 1.4), 6);
        Assert.Equal(1.0, FlowTime.Shift(0.0, 1.4), 12); // mirrors: t = 0 ↦ 1
        Assert.Equal(0.0, FlowTime.Shift(1.0, 1.4), 12);
        Assert.Equal(0.5, FlowTime.Shift(0.5, 1.0), 12);
        using var scope = NewDisposeScope();
        Assert.Equal(0.416667f, FlowTime.Shift(tensor(new[] { 0.5f }), 1.4)[0].item<float>(), 5);
        // Logit-normal: u = 0 ⇒ sigmoid = 0.5 ⇒ shifted 0.41667; without shift 0.5.
        Assert.Equal(0.416667f, FlowTime.FromNormal(zeros(1), 1.4)[0].item<float>(), 5);
        Assert.Equal(0.5f, FlowTime.FromNormal(zeros(1), null)[0].item<float>());
    }

    [Fact]
    public void LossIsReproducibleFromTheSeedStream()
    {
        using var scope = NewDisposeScope();
        var head = NonZeroHead();
        var g = new VgtSeed(11).TorchGenerator("data");
        var x = randn(new long[] { 6, 8 }, generator: g);
        var c = randn(new long[] { 6, 12 }, generator: g);
        using var _ = no_grad();
        var a = head.Loss(x, c, new VgtSeed(42).TorchGenerator("noise")).Loss.item<float>();
        var b = head.Loss(x, c, new VgtSeed(42).TorchGenerator("noise")).Loss.item<float>();
        var other = head.Loss(x, c, new VgtSeed(43).TorchGenerator("noise")).Loss.item<float>();
        Assert.Equal(a, b);
        Assert.NotEqual(a, other);

        // Documented draw order: ε [N, C] first, then u [N]; t = shift(sigmoid(u)).
        var gen = new VgtSeed(42).TorchGenerator("noise");
        var eps = randn(new long[] { 6, 8 }, generator: gen);
        var u = randn(new long[] { 6 }, generator: gen);
        var manual = head.LossAt(x, c, FlowTime.FromNormal(u, 1.4), eps).Loss.item<float>();
        Assert.Equal(a, manual);
    }

    [Fact]
    public void MaskedTokensDoNotCount()
    {
        using var scope = NewDisposeScope();
        var head = NonZeroHead();
        var g = new VgtSeed(2).TorchGenerator("data");
        var x = randn(new long[] { 4, 8 }, generator: g);
        var c = randn(new long[] { 4, 12 }, generator: g);
        var t = tensor(new[] { 0.1f, 0.4f, 0.6f, 0.9f });
        var eps = randn(new long[] { 4, 8 }, generator: g);
        var mask = tensor(new[] { 1f, 0f, 1f, 1f });
        using var _ = no_grad();
        var r = head.LossAt(x, c, t, eps, mask);
        var pt = r.PerToken;
        Assert.Equal((pt[0] + pt[2] + pt[3]).item<float>() / (3 + 1e-8f), r.Loss.item<float>(), 6);
        var x2 = x.clone();
        x2[1] = x2[1] + 100; // change only the masked token
        Assert.Equal(r.Loss.item<float>(), head.LossAt(x2, c, t, eps, mask).Loss.item<float>());
        // No mask = plain mean.
        Assert.Equal(pt.mean().item<float>(), head.LossAt(x, c, t, eps).Loss.item<float>(), 6);
        // Per-token loss is mean over channels of (v̂ − (x − ε))² at x_t = t·x + (1−t)·ε.
        var xt = t.unsqueeze(1) * x + (1 - t.unsqueeze(1)) * eps;
        var manual = (head.Net.forward(xt, t, c) - (x - eps)).square().mean(new long[] { 1 });
        Assert.True(manual.allclose(pt, rtol: 1e-6, atol: 1e-7));
    }

    [Fact]
    public void RepaIsReturnedOnlyInTrainingWithRepaEnabled()
    {
        using var scope = NewDisposeScope();
        var g = new VgtSeed(9).TorchGenerator("data");
        var x = randn(new long[] { 3, 8 }, generator: g);
        var c = randn(new long[] { 3, 12 }, generator: g);
        var target = randn(new long[] { 3, 6 }, generator: g);
        var head = NonZeroHead();
        head.train();
        var r = head.Loss(x, c, g, repaTarget: target);
        Assert.Equal(new long[] { 3, 6 }, r.RepaFeatures!.shape);
        var expected = -nn.functional.cosine_similarity(r.RepaFeatures, target, dim: 1).mean().item<float>();
        Assert.Equal(expected, r.RepaLoss!.item<float>(), 5);
        Assert.Null(head.Loss(x, c, g).RepaLoss); // no target, no REPA loss
        head.eval();
        Assert.Null(head.Loss(x, c, g, repaTarget: target).RepaFeatures);
        var off = new FlowMatchingHead(Small with { Repa = null });
        off.train();
        Assert.Null(off.Loss(x, c, g, repaTarget: target).RepaFeatures);
    }

    [Fact]
    public void RepaLossOfAlignedFeaturesIsMinusOne()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1f, 2f, 3f, -1f, 0f, 4f }, new long[] { 2, 3 });
        Assert.Equal(-1f, RepaLoss.NegativeCosine(a, a * 5).item<float>(), 6);
        Assert.Equal(1f, RepaLoss.NegativeCosine(a, -a).item<float>(), 6);
        Assert.Throws<ArgumentException>(() => RepaLoss.NegativeCosine(a, zeros(2, 4)));
    }
}
