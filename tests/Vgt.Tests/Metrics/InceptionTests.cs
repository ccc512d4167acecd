using TorchSharp;
using Vgt.Evaluation.Metrics;
using Vgt.Models.Perceptual.Inception;
using Vgt.Tests.Losses;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Vgt.Tests.Metrics;

public class InceptionTests(ITestOutputHelper output)
{
    [Fact]
    public void Tf1ResizeMatchesTheReference()
    {
        var f = LossFixtures.Load("inception_hash");
        var u8 = (f["x"] * 255).to(uint8).to(float64);
        var r = Tf1Bilinear.Resize(u8, 299, 299);
        var rows = r.index_select(2, arange(0, 299, 13)).index_select(3, arange(0, 299, 11));
        Assert.True(LossFixtures.RelErr(rows, f["resized_rows"]) < 1e-12);
        // Upsampling by an integer factor keeps the source samples at dst = k·factor.
        var small = arange(4, dtype: float64).view(1, 1, 1, 4);
        var up = Tf1Bilinear.Resize(small, 1, 8);
        Assert.Equal(new double[] { 0, 0.5, 1, 1.5, 2, 2.5, 3, 3 }, up.view(-1).data<double>().ToArray());
    }

    [Fact]
    public void FidInceptionMatchesTheReferenceWithHashWeights()
    {
        var net = HashWeights.Fill(new InceptionV3Fid());
        LossFixtures.AssertSameNames(net, "inception_hash");
        var f = LossFixtures.Load("inception_hash");
        var feats = net.Features(f["x"]);
        Assert.Equal(new long[] { 2, 2048 }, feats.shape);
        Assert.Equal(ScalarType.Float64, feats.dtype);
        double e = LossFixtures.RelErr(feats, f["features"]);
        Assert.True(e < 1e-9, $"Inception fp64: {e:E2}");

        var net32 = new InceptionV3Fid(ScalarType.Float32);
        Vgt.Models.Perceptual.WeightFile.LoadInto(net32, net.state_dict(), "fp64 net");
        double e32 = LossFixtures.RelErr(net32.Features(f["x"]), f["features"]);
        output.WriteLine($"Inception-v3 FID (hash weights, 2×3×32×40 → 299): fp64 {e:E2}, fp32 {e32:E2}");
        Assert.True(e32 < LossFixtures.Tolerance, $"Inception fp32: {e32:E2}");
        Assert.Equal("rFID", new Rfid(net).Label);
    }
}
