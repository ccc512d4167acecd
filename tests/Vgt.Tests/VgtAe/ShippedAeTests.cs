using Vgt.Evaluation;
using Vgt.Models.VgtAe;
using Vgt.Tests.Vlm;

namespace Vgt.Tests.VgtAe;

/// <summary>The committed models/shapes-ae and models/shapes-vae reconstruct held-out scenes (numbers in their cards).</summary>
public class ShippedAeTests
{
    [Theory]
    [InlineData("shapes-ae")]   // card: 1,000 test scenes, ≥ 33 dB
    [InlineData("shapes-vae")]  // card: 36 dB
    public void ReconstructsHeldOutScenesAboveTheIssueBar(string name)
    {
        var dir = VlmTrainingTests.RepoFile("models", name);
        Assert.True(File.Exists(Path.Combine(dir, "README.md")), "model card");
        Assert.True(new FileInfo(Path.Combine(dir, "model.safetensors")).Length < 20L << 20);
        using var ae = VgtAeModel.Load(dir);
        using var images = ReconEvaluator.HeldOutImages(48, ae.Config.ImageSize);
        double psnr = ReconEvaluator.MeanPsnr(ae, images);
        Assert.True(psnr >= 30, $"{name}: {psnr:F2} dB on 48 held-out scenes (issue bar 30 dB)");
    }
}
