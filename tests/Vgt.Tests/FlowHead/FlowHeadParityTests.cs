using Vgt.Models.FlowHead;
using Vgt.Sampling;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = Vgt.Tests.FlowHead.FlowHeadFixtures;

namespace Vgt.Tests.FlowHead;

/// <summary>fp32 parity against our PyTorch reference (tools/fixtures/make_flowhead_fixtures.py).</summary>
public class FlowHeadParityTests(ITestOutputHelper output)
{
    private void Check(string what, Tensor actual, Tensor expected)
    {
        var err = F.RelErr(actual, expected);
        output.WriteLine($"parity {what}: rel err {err:E2}");
        Assert.True(err <= F.Tolerance, $"{what}: relative error {err:E3} > {F.Tolerance:E0}");
    }

    [Fact]
    public void TimestepEmbeddingMatchesReference()
    {
        using var scope = NewDisposeScope();
        var fx = F.Load("timestep_embedding");
        Check("timestep embedding", TimestepEmbedder.Sinusoid(fx["t"], 256), fx["emb"]);
    }

    [Fact]
    public void HeadForwardMatchesReference()
    {
        using var scope = NewDisposeScope();
        var head = F.LoadHead();
        var fx = F.Load("head_forward");
        using var _ = no_grad();
        head.eval();
        var (v, repa) = head.Net.ForwardWithRepa(fx["in.x"], fx["in.t"], fx["in.c"]);
        Assert.Null(repa); // eval: no REPA output
        Check("head forward", v, fx["out.v"]);
        head.train();
        var (vTrain, repaTrain) = head.Net.ForwardWithRepa(fx["in.x"], fx["in.t"], fx["in.c"]);
        Check("head forward (train)", vTrain, fx["out.v"]);
        Check("head REPA features", repaTrain!, fx["out.repa"]);
    }

    [Fact]
    public void TrainingLossWithFixedDrawsMatchesReference()
    {
        using var scope = NewDisposeScope();
        var head = F.LoadHead();
        var fx = F.Load("flow_loss");
        using var _ = no_grad();
        var t = FlowTime.FromNormal(fx["in.u"], F.Config.Timeshift);
        Check("loss t (logit-normal + shift)", t, fx["out.t"]);
        head.train();
        var r = head.LossAt(fx["in.x"], fx["in.c"], t, fx["in.noise"], fx["in.mask"], fx["in.repa_target"]);
        Check("loss per token", r.PerToken, fx["out.per_token"]);
        Check("loss", r.Loss.reshape(1), fx["out.loss"]);
        Check("loss REPA features", r.RepaFeatures!, fx["out.repa"]);
        Check("REPA loss", r.RepaLoss!.reshape(1), fx["out.repa_loss"]);
        head.eval();
        var e = head.LossAt(fx["in.x"], fx["in.c"], t, fx["in.noise"], fx["in.mask"], fx["in.repa_target"]);
        Assert.Null(e.RepaFeatures);
        Assert.Null(e.RepaLoss);
        Check("loss (eval)", e.Loss.reshape(1), fx["out.loss"]);
    }

    [Fact]
    public void SdeSamplerMatchesReference()
    {
        using var scope = NewDisposeScope();
        var net = F.LoadHead().Net;
        var fx = F.Load("samplers");
        var c = fx["in.c"]; // [2M, D] cond block then uncond block
        var sampler = new EulerMaruyamaSampler();
        Check("SDE timesteps", tensor(sampler.Timesteps(8)), fx["out.timesteps"]);

        using (no_grad())
        {
            var v0 = GuidedVelocity.Evaluate(net, fx["in.x0"], 0f, c, 3.0, branches: 2);
            Check("CFG velocity", v0, fx["out.v0"]);
            var dt = sampler.Timesteps(8)[1];
            var x1 = SamplerSteps.EulerMaruyama(fx["in.x0"], v0, 0f, dt, fx["in.xi"][0]);
            Check("one Euler-Maruyama step", x1, fx["out.x1"]);
        }

        var x = sampler.Sample(net, c, 3.0, 8, FixedNoise.ForSde(fx["in.x0"], fx["in.xi"]));
        Check("SDE sample (cfg 3, 8 steps)", x, fx["out.sde"]);

        var bf16 = new EulerMaruyamaSampler { QuantiseTimeToBf16 = true }
            .Sample(net, c, 3.0, 8, FixedNoise.ForSde(fx["in.x0"], fx["in.xi"]));
        Check("SDE sample, bf16 t quirk", bf16, fx["out.sde_bf16_t"]);
        Assert.True(F.RelErr(bf16, x) > 1e-5, "the bf16-t option must change the result (by far more than the parity error)");

        var m = fx["in.x0"].shape[0];
        var noCfg = sampler.Sample(net, c[..(int)m], 1.0, 8, FixedNoise.ForSde(fx["in.x0"], fx["in.xi"]));
        Check("SDE sample, cfg 1 (cond only)", noCfg, fx["out.sde_nocfg"]);
    }

    [Fact]
    public void OdeSamplerMatchesReference()
    {
        using var scope = NewDisposeScope();
        var net = F.LoadHead().Net;
        var fx = F.Load("samplers");
        var x = new EulerOdeSampler().Sample(net, fx["in.c"], 2.5, 6, new FixedNoise(new[] { fx["in.x0"] }));
        Check("ODE sample (cfg 2.5, 6 steps)", x, fx["out.ode"]);
    }
}
