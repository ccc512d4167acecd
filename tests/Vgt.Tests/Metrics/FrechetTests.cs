using TorchSharp;
using Vgt.Evaluation.Metrics;
using Vgt.Models.Perceptual;
using Vgt.Tests.Losses;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Vgt.Tests.Metrics;

public class FrechetTests(ITestOutputHelper output)
{
    static FeatureStatistics Streamed(Tensor f, long chunk)
    {
        var s = new FeatureStatistics();
        for (long i = 0; i < f.shape[0]; i += chunk) s.Add(f[TensorIndex.Slice(i, Math.Min(i + chunk, f.shape[0]))]);
        return s;
    }

    [Fact]
    public void StreamedStatisticsMatchTheBatchFormulas()
    {
        var f = LossFixtures.Load("metrics")["f1"];
        using var s = Streamed(f, 7);
        Assert.Equal(60, s.Count);
        Assert.True(LossFixtures.RelErr(s.Mean(), f.mean([0])) < 1e-12);
        var centred = f - f.mean([0], keepdim: true);
        Assert.True(LossFixtures.RelErr(s.Covariance(), centred.t().matmul(centred) / 59) < 1e-10);
    }

    [Fact]
    public void FrechetDistanceMatchesTheEigvalsReference()
    {
        var m = LossFixtures.Load("metrics");
        using var a = Streamed(m["f1"], 16);
        using var b = Streamed(m["f2"], 9);
        double fd = FrechetDistance.Compute(a, b);
        Assert.True(Math.Abs(fd - m["fd"].item<double>()) / m["fd"].item<double>() < 1e-9, $"FD {fd} vs {m["fd"].item<double>()}");
        using var c = Streamed(m["s1"], 4);
        using var d = Streamed(m["s2"], 5);
        double fdSingular = FrechetDistance.Compute(c, d);    // N < D: both covariances singular
        double rel = Math.Abs(fdSingular - m["fd_singular"].item<double>()) / m["fd_singular"].item<double>();
        output.WriteLine($"FD: {fd} vs {m["fd"].item<double>()}; singular: {fdSingular} vs {m["fd_singular"].item<double>()} (rel {rel:E2})");
        Assert.True(rel < 1e-6, $"singular FD {fdSingular} vs {m["fd_singular"].item<double>()} ({rel:E2})");
        Assert.Equal(0.0, FrechetDistance.Compute(a, a), 8);
    }

    [Fact]
    public void SymmetricSqrtSquaresBack()
    {
        var x = randn(5, 5, dtype: float64, generator: new Generator(1).manual_seed(4));
        var spd = x.matmul(x.t());
        var r = FrechetDistance.SymmetricSqrt(spd);
        Assert.True(LossFixtures.RelErr(r.matmul(r), spd) < 1e-12);
        // tr √(AB) for commuting diagonal matrices = Σ √(a_i b_i)
        Assert.Equal(Math.Sqrt(2 * 8) + Math.Sqrt(3 * 3), FrechetDistance.TraceSqrtProduct(diag(tensor(new double[] { 2, 3 })), diag(tensor(new double[] { 8, 3 }))), 12);
    }

    sealed class MeanColour : IFeatureExtractor
    {
        public string Name => "teacher";
        public Tensor Features(Tensor images) => images.mean([2, 3]);   // [B,3]
    }

    [Fact]
    public void FeatureFrechetDistanceIsLabelledByItsExtractorNotRfid()
    {
        using var fd = new FeatureFrechetDistance(new MeanColour());
        Assert.Equal("FD-teacher", fd.Label);
        var g = new Generator(1).manual_seed(9);
        for (int i = 0; i < 3; i++)
        {
            var real = rand(4, 3, 8, 8, generator: g);
            fd.Update(real, real);
        }
        Assert.Equal(12, fd.Count);
        Assert.Equal(0.0, fd.Compute(), 8);
        fd.Reset();
        fd.Update(zeros(3, 3, 8, 8) + tensor(new float[] { 0, 0.1f, 0.2f }).view(3, 1, 1, 1),
                  ones(3, 3, 8, 8) * 0.5f + tensor(new float[] { 0, 0.1f, 0.2f }).view(3, 1, 1, 1));
        Assert.Equal(3 * 0.25, fd.Compute(), 6);     // same covariance, means 0.5 apart in 3 dims
    }
}
