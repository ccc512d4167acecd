using Vgt.Runtime;
using Vgt.Sampling;
using static TorchSharp.torch;

namespace Vgt.Tests.FlowHead;

public class SamplerTests
{
    /// <summary>Records every call; v = c[:, :C] + scale·x (so cond/uncond rows give different velocities).</summary>
    private sealed class RecordingField(int dim, float scale = 0f) : IVelocityField
    {
        public readonly List<float[]> Times = [];
        public readonly List<Tensor> Inputs = [];
        public int InputDim => dim;

        public Tensor Velocity(Tensor x, Tensor t, Tensor c)
        {
            Times.Add(t.data<float>().ToArray());
            Inputs.Add(x.clone().MoveToOuterDisposeScope());
            return c[.., ..dim] + scale * x;
        }
    }

    [Fact]
    public void HundredStepsAre99StochasticStepsAndOneFinalEulerStep()
    {
        using var scope = NewDisposeScope();
        var field = new RecordingField(4);
        var sampler = new EulerMaruyamaSampler();
        var noise = new FixedNoise(Enumerable.Range(0, 100).Select(_ => zeros(2, 4)));
        sampler.Sample(field, zeros(2, 4), 1.0, 100, noise);
        Assert.Equal(100, field.Times.Count);      // 100 network calls per group
        Assert.Equal(0, noise.Remaining);          // x₀ + 99 step draws
        var ts = sampler.Timesteps(100);
        Assert.Equal(0.96f, ts[^1]);
        for (int i = 0; i < 99; i++) Assert.Equal(0.96 / 99, ts[i + 1] - ts[i], 6);
        Assert.Equal(0.96f, field.Times[^1][0]);
        Assert.Equal(0f, field.Times[0][0]);
    }

    [Fact]
    public void ZeroNoiseSdeFollowsTheDriftByHand()
    {
        // v ≡ a: each stochastic step adds ((1+t)·a − x)·dt, the final step adds a·0.04.
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1f, -2f }, new long[] { 1, 2 });
        var x0 = tensor(new[] { 0.5f, 0.25f }, new long[] { 1, 2 });
        var sampler = new EulerMaruyamaSampler();
        var noise = new FixedNoise(new[] { x0 }.Concat(Enumerable.Range(0, 4).Select(_ => zeros(1, 2))));
        var x = sampler.Sample(new RecordingField(2), a, 1.0, 5, noise);
        double[] xs = { 0.5, 0.25 }, av = { 1, -2 };
        var ts = sampler.Timesteps(5);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++) xs[j] += ((1 + ts[i]) * av[j] - xs[j]) * (ts[i + 1] - ts[i]);
        Assert.Equal(xs[0] + av[0] * 0.04, x[0, 0].item<float>(), 5);
        Assert.Equal(xs[1] + av[1] * 0.04, x[0, 1].item<float>(), 5);
    }

    [Fact]
    public void EulerMaruyamaStepAddsScaledNoise()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1f }); var v = tensor(new[] { 2f }); var xi = tensor(new[] { 1f });
        // t = 0.5, dt = 0.25: drift (1.5·2 − 1) = 2 → +0.5; diffusion √(2·0.5)·√0.25 = 0.5.
        Assert.Equal(2f, SamplerSteps.EulerMaruyama(x, v, 0.5f, 0.25f, xi)[0].item<float>(), 6);
        Assert.Equal(1.5f, SamplerSteps.Euler(x, v, 0.25f)[0].item<float>());
    }

    [Fact]
    public void CfgSharesNoiseAcrossBranchesAndCombinesVelocities()
    {
        using var scope = NewDisposeScope();
        var field = new RecordingField(3, scale: 0.5f);
        var cond = cat(new[] { full(2, 3, 2f), full(2, 3, -1f) }, 0); // cond block, then uncond block
        var x = randn(new long[] { 2, 3 }, generator: new VgtSeed(1).TorchGenerator("noise"));
        var v = GuidedVelocity.Evaluate(field, x, 0.3f, cond, 4.0, branches: 2);
        Assert.True(FlowHeadFixtures.Identical(field.Inputs[0][..2], field.Inputs[0][2..])); // x repeated for both branches
        // v_c = 2 + 0.5x, v_u = −1 + 0.5x ⇒ v_u + 4(v_c − v_u) = −1 + 0.5x + 12
        Assert.True(v.allclose(11 + 0.5f * x, rtol: 1e-6, atol: 1e-6));

        var sde = new RecordingField(3);
        new EulerMaruyamaSampler().Sample(sde, cond, 4.0, 3, new VgtSeed(1).TorchGenerator("noise"));
        foreach (var input in sde.Inputs)
        {
            Assert.Equal(4, input.shape[0]);
            Assert.True(FlowHeadFixtures.Identical(input[..2], input[2..]));
        }
    }

    [Fact]
    public void Bf16TimeQuirkIsOptIn()
    {
        using var scope = NewDisposeScope();
        var off = new RecordingField(2);
        new EulerMaruyamaSampler().Sample(off, zeros(1, 2), 1.0, 30, new VgtSeed(1).TorchGenerator("noise"));
        Assert.Equal(0.96f, off.Times[^1][0]);
        var on = new RecordingField(2);
        new EulerMaruyamaSampler { QuantiseTimeToBf16 = true }.Sample(on, zeros(1, 2), 1.0, 30, new VgtSeed(1).TorchGenerator("noise"));
        Assert.Equal(0.9609375f, on.Times[^1][0]);
    }

    [Fact]
    public void SameSeedStreamGivesTheSameSample()
    {
        using var scope = NewDisposeScope();
        var cond = randn(new long[] { 4, 3 }, generator: new VgtSeed(0).TorchGenerator("c"));
        var s = new EulerMaruyamaSampler();
        var a = s.Sample(new RecordingField(3, 0.1f), cond, 2.0, 5, new VgtSeed(7).TorchGenerator("noise"));
        var b = s.Sample(new RecordingField(3, 0.1f), cond, 2.0, 5, new VgtSeed(7).TorchGenerator("noise"));
        var c = s.Sample(new RecordingField(3, 0.1f), cond, 2.0, 5, new VgtSeed(8).TorchGenerator("noise"));
        Assert.True(FlowHeadFixtures.Identical(a, b));
        Assert.False(FlowHeadFixtures.Identical(a, c));
    }

    [Fact]
    public void OdeWithConstantVelocityMovesByExactlyV()
    {
        using var scope = NewDisposeScope();
        var field = new RecordingField(2);
        var x0 = tensor(new[] { 0.5f, -0.5f }, new long[] { 1, 2 });
        var x = new EulerOdeSampler().Sample(field, tensor(new[] { 3f, 1f }, new long[] { 1, 2 }), 1.0, 7, new FixedNoise(new[] { x0 }));
        Assert.Equal(7, field.Times.Count);
        Assert.Equal(0f, field.Times[0][0]);
        Assert.Equal(6f / 7f, field.Times[^1][0], 6);
        Assert.Equal(3.5f, x[0, 0].item<float>(), 5);
        Assert.Equal(0.5f, x[0, 1].item<float>(), 5);
    }

    [Fact]
    public void BadInputsGiveClearErrors()
    {
        using var scope = NewDisposeScope();
        var f = new RecordingField(2);
        var s = new EulerMaruyamaSampler();
        var gen = new VgtSeed(1).TorchGenerator("noise");
        Assert.Contains("odd row count 3", Assert.Throws<ArgumentException>(() => s.Sample(f, zeros(3, 2), 2.0, 4, gen)).Message);
        Assert.Contains("GuidanceLayout.CondThenUncond", Assert.Throws<ArgumentException>(() => s.Sample(f, zeros(2, 2), 0.5, 4, gen)).Message);
        Assert.Contains("steps >= 2", Assert.Throws<ArgumentOutOfRangeException>(() => s.Sample(f, zeros(2, 2), 1.0, 1, gen)).Message);
        Assert.Contains("ran out", Assert.Throws<InvalidOperationException>(() => s.Sample(f, zeros(1, 2), 1.0, 4, new FixedNoise(new[] { zeros(1, 2) }))).Message);
        Assert.Contains("asked for [1,2]", Assert.Throws<ArgumentException>(() => s.Sample(f, zeros(1, 2), 1.0, 4, new FixedNoise(new[] { zeros(2, 2) }))).Message);
        // cfg < 1 is allowed with an explicit uncond block: v = v_u + 0.5(v_c − v_u)
        var cond = cat(new[] { full(1, 2, 2f), full(1, 2, 0f) }, 0);
        var v = GuidedVelocity.Evaluate(f, zeros(1, 2), 0f, cond, 0.5, GuidedVelocity.Branches(GuidanceLayout.CondThenUncond, 0.5, 2));
        Assert.Equal(1f, v[0, 0].item<float>());
    }

    [Fact]
    public void TemperatureScalesTheOdeStartingNoise()
    {
        // v ≡ 0: the ODE returns x₀ itself, so the output is τ·x₀.
        using var scope = NewDisposeScope();
        var x0 = tensor(new[] { 0.5f, -1.5f }, new long[] { 1, 2 });
        var plain = new EulerOdeSampler().Sample(new RecordingField(2), zeros(1, 2), 1.0, 3, new FixedNoise([x0]));
        var cold = new EulerOdeSampler { Temperature = 0.5 }.Sample(new RecordingField(2), zeros(1, 2), 1.0, 3, new FixedNoise([x0]));
        Assert.True(FlowHeadFixtures.Identical(plain, x0));
        Assert.True(cold.allclose(0.5f * x0, rtol: 0, atol: 1e-7));
    }

    [Fact]
    public void TemperatureScalesEverySdeDraw()
    {
        // v ≡ 0: one stochastic step x₁ = x₀ − x₀·dt + √(2·1)·√dt·ξ at t = 0, then the final step adds 0.
        // Every Gaussian draw (x₀ and ξ) enters linearly, so the result scales by τ exactly.
        using var scope = NewDisposeScope();
        var x0 = tensor(new[] { 0.5f, -1.5f }, new long[] { 1, 2 });
        var xi = tensor(new[] { 1f, 2f }, new long[] { 1, 2 });
        Tensor Run(double tau) => new EulerMaruyamaSampler { Temperature = tau }
            .Sample(new RecordingField(2), zeros(1, 2), 1.0, 2, new FixedNoise([x0, xi]));
        var plain = Run(1.0);
        Assert.True(Run(0.25).allclose(0.25f * plain, rtol: 1e-6, atol: 1e-7));
        float dt = 0.96f;
        var expected = x0 - x0 * dt + MathF.Sqrt(2f) * MathF.Sqrt(dt) * xi;
        Assert.True(plain.allclose(expected, rtol: 1e-6, atol: 1e-6));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(11.0)]
    public void TemperatureOutsideItsRangeIsRefused(double tau)
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new EulerOdeSampler { Temperature = tau }.Sample(new RecordingField(2), zeros(1, 2), 1.0, 2, new FixedNoise([zeros(1, 2)])));
        Assert.Contains("temperature must be in (0, 10]", e.Message);
    }

    [Fact]
    public void GuidanceIntervalWritesOnlyItsBoundsAndReadsFilesThatAlsoHoldTheComputedFlags()
    {
        string json = Vgt.Config.ConfigJson.Serialize(new GuidanceInterval(0.25, 1));
        Assert.Contains("\"low\": 0.25", json);
        Assert.DoesNotContain("is_full", json);
        Assert.DoesNotContain("is_valid", json);
        // generator configs written before session 8 carry is_full / is_valid; they still load
        var old = Vgt.Config.ConfigJson.Deserialize<GuidanceInterval>("{\"low\": 0, \"high\": 1, \"is_full\": true, \"is_valid\": true}");
        Assert.Equal(GuidanceInterval.Full, old);
        Assert.ThrowsAny<Exception>(() => Vgt.Config.ConfigJson.Deserialize<GuidanceInterval>("{\"low\": 0, \"high\": 1, \"hihg\": 1}"));
    }

    [Fact]
    public void GuidanceIntervalGuidesOnlyInsideItAndSkipsTheUncondHalfOutside()
    {
        // v = c[:, :C] + 0.5·x; cond rows give 2, uncond rows −1. ODE with 4 steps at t = 0, 0.25, 0.5, 0.75.
        using var scope = NewDisposeScope();
        var cond = cat(new[] { full(1, 2, 2f), full(1, 2, -1f) }, 0);
        var x0 = tensor(new[] { 0.5f, -1.5f }, new long[] { 1, 2 });
        Tensor Run(GuidanceInterval interval, double cfg, RecordingField field) =>
            new EulerOdeSampler { Interval = interval }.Sample(field, cond, cfg, 4, new FixedNoise([x0]), GuidanceLayout.CondThenUncond);
        var never = new RecordingField(2, scale: 0.5f);
        var unguided = new RecordingField(2, scale: 0.5f);
        var a = Run(new GuidanceInterval(1, 1), 4.0, never);        // no step at t = 1: never guided
        var b = Run(GuidanceInterval.Full, 1.0, unguided);          // cfg 1: the conditional velocity alone
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
        Assert.All(never.Inputs, x => Assert.Equal(1, x.shape[0]));  // one branch evaluated per step

        var half = new RecordingField(2, scale: 0.5f);
        Run(new GuidanceInterval(0.5, 1), 4.0, half);
        Assert.Equal(new long[] { 1, 1, 2, 2 }, half.Inputs.Select(x => x.shape[0]).ToArray()); // guided at t = 0.5 and 0.75

        Assert.Throws<ArgumentOutOfRangeException>(() => Run(new GuidanceInterval(0.8, 0.2), 4.0, new RecordingField(2)));
        Assert.Equal(new GuidanceInterval(0.2, 1), GuidanceInterval.Parse("0.2,1"));
        Assert.Contains("0 ≤ low ≤ high ≤ 1", Assert.Throws<ArgumentException>(() => GuidanceInterval.Parse("0.5,1.5")).Message);
        Assert.Contains("LOW,HIGH", Assert.Throws<ArgumentException>(() => GuidanceInterval.Parse("half")).Message);
    }
}
