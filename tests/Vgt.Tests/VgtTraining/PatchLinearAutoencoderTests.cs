using Vgt.Pipelines;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtTraining;

public sealed class PatchLinearAutoencoderTests
{
    [Fact]
    public void PcaFitReconstructsShapesImagesAndLatentsAreChannelNormed()
    {
        var ds = new Vgt.Data.ShapesWorld.ShapesDataset(new(ImageSize: 32));
        using var images = stack(ds.Stream().Take(24).Select(s => s.ImageTensor()).ToArray());   // [24,3,32,32]
        using var ae = new PatchLinearAutoencoder(new PatchLinearAeConfig { Stride = 4, LatentChannels = 8 });
        ae.FitPca(images);
        using var z = ae.Encode(images);
        Assert.Equal(new long[] { 24, 8, 8, 8 }, z.shape);
        Assert.True(z.mean([1]).abs().max().item<float>() < 1e-4);
        using var x = ae.Decode(z);
        Assert.Equal(images.shape, x.shape);
        double mse = (x - images).square().mean().item<float>();
        double variance = images.var().item<float>();
        // the channel norm drops each cell's code mean and scale, so this stand-in AE is lossy
        Assert.True(mse < 0.7 * variance, $"reconstruction MSE {mse} vs image variance {variance}");
        var e = Assert.Throws<ArgumentException>(() => ae.Encode(zeros(1, 3, 30, 32)));
        Assert.Contains("AE stride 4", e.Message);
    }
}
