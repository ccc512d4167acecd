using TorchSharp;
using Vgt.Evaluation.Metrics;
using Vgt.Tests.Losses;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Vgt.Tests.Metrics;

public class ImageMetricsTests(ITestOutputHelper output)
{
    [Fact]
    public void PsnrMatchesTheIndependentReference()
    {
        var f = LossFixtures.Load("metrics");
        var psnr = Psnr.PerImage(f["fake"], f["real"]);
        double e = LossFixtures.RelErr(psnr, f["psnr"]);
        output.WriteLine($"PSNR: rel err {e:E2}");
        Assert.True(e < 1e-6, $"PSNR: {e:E2}");
        Assert.Equal(10 * Math.Log10(16.0), Psnr.PerImage(full(1, 3, 4, 4, 0.25), zeros(1, 3, 4, 4)).item<double>(), 12);
    }

    [Fact]
    public void SsimMatchesSkimageConventionsForBothDataRanges()
    {
        var f = LossFixtures.Load("metrics");
        var s1 = Ssim.PerImage(f["fake"], f["real"], SsimDataRange.Standard);
        var s2 = Ssim.PerImage(f["fake"], f["real"], SsimDataRange.VgtReference);
        double e1 = LossFixtures.RelErr(s1, f["ssim_dr1"]), e2 = LossFixtures.RelErr(s2, f["ssim_dr2"]);
        output.WriteLine($"SSIM: R=1 rel err {e1:E2}, R=2 rel err {e2:E2}");
        Assert.True(e1 < 1e-6, $"SSIM R=1: {e1:E2}");
        Assert.True(e2 < 1e-6, $"SSIM R=2: {e2:E2}");
        Assert.True(s2[2].item<double>() > s1[2].item<double>());   // the reference's R = 2 inflates SSIM
        Assert.Equal(("ssim", "ssim_dr2"), (Ssim.Label(SsimDataRange.Standard), Ssim.Label(SsimDataRange.VgtReference)));
        Assert.Equal(1.0, Ssim.PerImage(f["real"], f["real"]).min().item<double>(), 12);
        Assert.Throws<ArgumentException>(() => Ssim.PerImage(zeros(1, 3, 6, 9), zeros(1, 3, 6, 9)));
    }
}
