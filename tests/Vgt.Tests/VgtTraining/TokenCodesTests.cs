using Vgt.Models.QueryAr;
using Vgt.Pipelines;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtTraining;

/// <summary>The optional discrete token codes in front of the flow head (<see cref="TokenCodebook"/>).</summary>
public sealed class TokenCodesTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("vgt-codes-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static QueryArTrainConfig Config(string root, int steps = 4) =>
        TinyVgt.Train(root, steps) with { Model = TinyVgt.Model() with { TokenCodes = 8, TokenCodeLossWeight = 0.5 } };

    [Fact]
    public void NearestIsTheBruteForceArgMinAcrossChunks()
    {
        var g = new Generator(3);
        var x = randn(20000, 5, generator: g);                                           // more rows than one 16,384 chunk
        var c = randn(7, 5, generator: g);
        var brute = (x.unsqueeze(1) - c.unsqueeze(0)).square().sum(2).argmin(1);         // [N]
        Assert.True(TokenCodebook.Nearest(x, c).equal(brute).all().item<bool>());
    }

    [Fact]
    public void KMeansFindsSeparatedClustersAndUsesEveryCode()
    {
        var g = new Generator(1);
        var centres = tensor(new float[] { 0, 0, 0, 10, 0, 0, 0, 10, 0, -10, -10, 10 }).reshape(4, 3);
        var labels = arange(4).repeat(100);                                              // 400 points, 100 per blob
        var x = centres.index_select(0, labels) + 0.1f * randn(400, 3, generator: g);
        var fitted = TokenCodebook.KMeans(x, 4, iterations: 10, new Generator(2));
        var assign = TokenCodebook.Nearest(x, fitted);
        for (int blob = 0; blob < 4; blob++)
        {
            var codes = assign.masked_select(labels.eq(blob)).unique().Item1;
            Assert.Equal(1, codes.shape[0]);                                                 // a blob is one code
        }
        Assert.Equal(4, assign.unique().Item1.shape[0]);                                    // and every code is some blob
        // more codes than blobs: the empty-cluster rule still uses every code
        var eight = TokenCodebook.KMeans(x, 8, iterations: 10, new Generator(2));
        Assert.Equal(8, TokenCodebook.Nearest(x, eight).unique().Item1.shape[0]);
        Assert.Throws<ArgumentException>(() => TokenCodebook.KMeans(x.narrow(0, 0, 3), 4, 5, new Generator(2)));
    }

    [Fact]
    public void TrainingFitsTheCodesOnceAddsTheirLossAndResumesBitForBit()
    {
        var config = Config(root);
        Dictionary<string, Tensor> straight;
        using (var a = new QueryArTrainer(config, Path.Combine(root, "a")))
        {
            Assert.False(a.Model.Codes!.IsFitted);
            a.Train();
            Assert.True(a.Model.Codes.IsFitted);
            Assert.NotNull(a.LastCodes);
            Assert.InRange(a.LastCodes!.Value.Loss, 0.1, 10);
            straight = a.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            // the EMA copy of the (frozen) centroids is the fitted one, not the zeros it was created with
            Assert.True(a.Ema.StateDict()["token_codes.centroids"].equal(straight["token_codes.centroids"]).all().item<bool>());
        }
        Assert.Contains("token_codes.logits.weight", straight.Keys);
        Assert.Contains("token_codes.embed.weight", straight.Keys);
        using (var b = new QueryArTrainer(config, Path.Combine(root, "b")))
            b.Train(stopAt: 3);
        using (var c = new QueryArTrainer(config, Path.Combine(root, "b")))
        {
            Assert.True(c.Resume());
            Assert.True(c.Model.Codes!.IsFitted);                                         // from the checkpoint, not refitted
            c.Train();
            foreach (var (name, w) in straight)
                Assert.True(w.equal(c.Model.state_dict()[name]).all().item<bool>(), $"{name} differs after resume");
        }
    }

    [Fact]
    public void TheLossIsFlowPlusWeightedCrossEntropyAndOffMeansTheReferenceModel()
    {
        using var t = new QueryArTrainer(Config(root), Path.Combine(root, "a"));
        t.Train();
        var model = t.Model;
        var latents = randn(2, TinyVgt.Channels, 4, 4, generator: new Generator(4));
        var ids = tensor(new long[] { 5, 6, 7, 8, 9, 10 }).reshape(2, 3);
        var mask = ones(2, 3, dtype: @bool);
        var options = new QueryArLossOptions { ImageStartIds = [11] };
        var r = QueryArLoss.Compute(model, latents, ids, mask, new Generator(9), options);
        Assert.NotNull(r.CodeLoss);
        Assert.Equal(r.FlowLoss.item<float>() + 0.5f * r.CodeLoss!.item<float>(), r.Loss.item<float>(), 5);
        Assert.InRange(r.CodeAccuracy!.item<float>(), 0, 1);

        using var plain = new QueryArModel(TinyVgt.Model());
        Assert.Null(plain.Codes);
        Assert.DoesNotContain(plain.state_dict().Keys, k => k.StartsWith("token_codes.", StringComparison.Ordinal));
        var p = QueryArLoss.Compute(plain, latents, ids, mask, new Generator(9), options);
        Assert.Null(p.CodeLoss);
        Assert.True(p.Loss.equal(p.FlowLoss).item<bool>());
    }

    [Fact]
    public void AnExportedGeneratorWithCodesLoadsAndOneSeedFixesTheImage()
    {
        var dir = Path.Combine(root, "generator");
        using (var t = new QueryArTrainer(Config(root, steps: 2), Path.Combine(root, "run")))
        {
            t.Train();
            t.Export(dir, "tiny-codes", "# tiny-codes\n");
        }
        using var g = VgtGenerator.Load(dir);
        Assert.True(g.Model.Codes!.IsFitted);
        var request = g.Request(["a photo of a red circle"]) with { Seed = 3 };
        using var a = g.Generate(request);
        using var b = g.Generate(request);
        using var c = g.Generate(request with { Seed = 4 });
        using var guided = g.Generate(request with { CodeCfg = 0.0 });
        Assert.True(a.Images.equal(b.Images).all().item<bool>());
        Assert.False(a.Latents.allclose(c.Latents));
        Assert.Equal(a.Latents.shape, guided.Latents.shape);
        Assert.Equal("0", (request with { CodeCfg = 0.0 }).ParametersFor(0).Extras["Code CFG"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Generate(request with { CodeCfg = double.NaN }));
    }
}
