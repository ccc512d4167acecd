using Vgt.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.QueryAr;

public sealed class QueryArLossTests(ITestOutputHelper output)
{
    private static readonly int[] ImgStart = [1021];

    [Fact]
    public void SharedPermutationMatchesReference()
    {
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var model = QueryArFixture.Model();
        model.train();                                                 // REPA features only in training mode
        var r = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(0), new QueryArLossOptions
        {
            ImageStartIds = ImgStart, FixedPermutation = t["in.perm"], FixedT = t["in.t"], FixedNoise = t["in.noise"], RepaTarget = t["in.repa_target"],
        });
        double cond = QueryArFixture.RelErr(r.Conditions, t["out.cond"]);
        double flow = QueryArFixture.RelErr(r.FlowLoss, t["out.flow"]);
        double repa = QueryArFixture.RelErr(r.RepaLoss!, t["out.repa"]);
        double total = QueryArFixture.RelErr(r.Loss, t["out.total"]);
        output.WriteLine($"loss parity: cond {cond:E2}, flow {flow:E2}, repa {repa:E2}, total {total:E2}");
        Assert.All(new[] { cond, flow, repa, total }, e => Assert.True(e <= QueryArFixture.Tolerance, $"rel err {e}"));
        Assert.Equal(new long[] { 2, 6 }, r.Permutation.shape);
    }

    [Fact]
    public void PerSamplePermutationMatchesReference()
    {
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var model = QueryArFixture.Model();
        model.train();
        var r = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(0), new QueryArLossOptions
        {
            ImageStartIds = ImgStart, FixedPermutation = t["in.perm_rows"], FixedT = t["in.t"], FixedNoise = t["in.noise"], RepaTarget = t["in.repa_target"],
        });
        double cond = QueryArFixture.RelErr(r.Conditions, t["out.rows_cond"]);
        double total = QueryArFixture.RelErr(r.Loss, t["out.rows_total"]);
        output.WriteLine($"per-sample loss parity: cond {cond:E2}, total {total:E2}");
        Assert.True(cond <= QueryArFixture.Tolerance && total <= QueryArFixture.Tolerance);
        Assert.False(QueryArFixture.RelErr(r.Loss, t["out.total"]) < 1e-6);   // the order matters
    }

    [Fact]
    public void RandomDrawsComeFromTheGeneratorAndGradientsFlow()
    {
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var model = QueryArFixture.Model(repa: false);
        var a = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(11), new() { ImageStartIds = ImgStart });
        var b = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(11), new() { ImageStartIds = ImgStart });
        var c = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(12),
            new() { ImageStartIds = ImgStart, Permutation = PermutationMode.PerSample });
        Assert.Equal(a.Loss.item<float>(), b.Loss.item<float>());
        Assert.True(a.Permutation[0].equal(a.Permutation[1]).all().item<bool>());     // one permutation per batch
        Assert.False(c.Permutation[0].equal(c.Permutation[1]).all().item<bool>());    // one per sample
        Assert.Null(a.RepaLoss);

        a.Loss.backward();
        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        foreach (var name in new[] { "adaptive_metaquery.max_metaquery", "image_in_projector.weight", "image_out_projector.weight",
                     "lmm.language_model.model.layers.0.self_attn.q_proj.weight", "lmm.language_model.model.embed_tokens.weight" })
            Assert.True(grads[name] is { } g && g.abs().sum().item<float>() > 0, $"no gradient for {name}");
    }

    [Fact]
    public void RasterFractionMakesThatShareOfOrdersRasterAndLeavesTheDrawsAloneAtZero()
    {
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var model = QueryArFixture.Model(repa: false);
        Tensor Perm(PermutationMode mode, double fraction, int seed) => QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"],
            new Generator((ulong)seed), new() { ImageStartIds = ImgStart, Permutation = mode, RasterFraction = fraction }).Permutation;
        long l = t["in.latents"].shape[2] * t["in.latents"].shape[3];
        var raster = arange(l, dtype: ScalarType.Int64);
        foreach (var mode in new[] { PermutationMode.PerBatch, PermutationMode.PerSample })
        {
            var all = Perm(mode, 1.0, 3);
            for (int i = 0; i < all.shape[0]; i++) Assert.True(all[i].equal(raster).all().item<bool>(), $"{mode}: row {i} is not raster at fraction 1");
        }
        // over many rows the share of raster rows is the fraction, and the other rows are random orders (one draw of
        // 400 rows: the order sampler alone, no model forward)
        using var many = QueryArLoss.Permutation(new QueryArLossOptions { ImageStartIds = ImgStart, Permutation = PermutationMode.PerSample, RasterFraction = 0.5 },
            400, (int)l, new Generator(9));
        int rasterRows = (int)many.eq(raster.unsqueeze(0)).all(1).sum().item<long>();
        double share = rasterRows / 400.0;
        output.WriteLine($"raster share at 0.5: {share:F3} of 400 rows");
        Assert.InRange(share, 0.4, 0.6);
        Assert.True(many.sort(1).Values.eq(raster.unsqueeze(0)).all().item<bool>());   // every row a permutation
        // fraction 0 draws exactly what a run without the option draws (old runs replay bit for bit)
        var plain = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(5),
            new() { ImageStartIds = ImgStart, Permutation = PermutationMode.PerSample });
        Assert.True(Perm(PermutationMode.PerSample, 0.0, 5).equal(plain.Permutation).all().item<bool>());
    }

    [Fact]
    public void HeadBatchMulAveragesTheFlowLossOverIndependentDrawsPerToken()
    {
        // m = 2 with draws (t₁, ε₁) for copy 0 and (t₂, ε₂) for copy 1 = the mean of the two m = 1 losses.
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var model = QueryArFixture.Model(repa: false);
        model.eval();
        var perm = t["in.perm"];
        var (t1, e1) = (t["in.t"], t["in.noise"]);
        var (t2, e2) = (t1.flip(0), e1.flip(0) * 0.5);
        Tensor Loss(int m, Tensor tt, Tensor ee) => QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(0),
            new QueryArLossOptions { ImageStartIds = ImgStart, FixedPermutation = perm, FixedT = tt, FixedNoise = ee, HeadBatchMul = m }).Loss;
        var one = Loss(1, t1, e1);
        var other = Loss(1, t2, e2);
        var two = Loss(2, cat([t1, t2], 0), cat([e1, e2], 0));
        Assert.True(two.allclose((one + other) / 2, rtol: 1e-5, atol: 1e-7), $"{two.item<float>()} vs {((one + other) / 2).item<float>()}");
        // random draws: m·B·L flow times, conditions still [B·L, D]
        var r = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(3),
            new QueryArLossOptions { ImageStartIds = ImgStart, HeadBatchMul = 4 });
        Assert.Equal(4 * t1.shape[0], r.T.shape[0]);
        Assert.Equal(t1.shape[0], r.Conditions.shape[0]);
    }

    [Fact]
    public void QueriesNeverSeeTheirOwnLatent()
    {
        // changing the latent fed last in the permutation changes no condition (nothing reads the last token)
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var model = QueryArFixture.Model(repa: false);
        var perm = t["in.perm"];
        long last = perm[^1].item<long>();
        var changed = t["in.latents"].clone();
        changed[.., .., (int)(last / 3), (int)(last % 3)] += 5;
        var o = new QueryArLossOptions { ImageStartIds = ImgStart, FixedPermutation = perm, FixedT = t["in.t"], FixedNoise = t["in.noise"] };
        var a = QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(0), o);
        var b = QueryArLoss.Compute(model, changed, t["in.ids"], t["in.mask"], new Generator(0), o);
        Assert.True(a.Conditions.allclose(b.Conditions, rtol: 0, atol: 0));
    }

    [Fact]
    public void BadInputsNameTheProblem()
    {
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var model = QueryArFixture.Model(repa: false);
        var o = new QueryArLossOptions { ImageStartIds = ImgStart };
        var e = Assert.Throws<ArgumentException>(() => QueryArLoss.Compute(model, t["in.latents"].narrow(1, 0, 4), t["in.ids"], t["in.mask"], new Generator(0), o));
        Assert.Contains("C=8", e.Message);
        e = Assert.Throws<ArgumentException>(() => QueryArLoss.Compute(model, zeros(2, 8, 7, 3), t["in.ids"], t["in.mask"], new Generator(0), o));
        Assert.Contains("metaquery grid 6×7", e.Message);
        e = Assert.Throws<ArgumentException>(() => QueryArLoss.Compute(model, t["in.latents"], t["in.ids"], t["in.mask"], new Generator(0),
            o with { FixedPermutation = tensor(new long[] { 0, 1, 2, 3, 4, 4 }) }));
        Assert.Contains("permutation", e.Message);
        e = Assert.Throws<ArgumentException>(() => QueryArLoss.Compute(model, t["in.latents"], t["in.ids"][..1], t["in.mask"][..1], new Generator(0), o));
        Assert.Contains("B=2", e.Message);
    }
}
