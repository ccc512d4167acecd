using Vgt.Models.VgtAe;
using static TorchSharp.torch;
using static Vgt.Tests.VgtAe.VgtAeTestSupport;

namespace Vgt.Tests.VgtAe;

/// <summary>Noise regularisation, the KL variant, the conv baseline and fitting images to the stride.</summary>
public class VgtAeLatentTests
{
    [Fact]
    public void TrainingNoiseIsPerSampleAlphaTimesGaussianAndOnlyInTraining()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var ae = new ConvAutoencoder(TinyConvConfig() with { NoiseStrength = 0.5 });
        var x = rand(64, 3, 32, 32) * 2 - 1;
        using var _ = no_grad();
        ae.eval();
        var clean = ae.Encode(x, new Generator(1)).Latent;
        Assert.True(clean.eq(ae.Encode(x, new Generator(2)).Latent).all().item<bool>());   // eval: deterministic, no noise
        ae.train();
        var noisy1 = ae.Encode(x, new Generator(1)).Latent;
        var noisy1Again = ae.Encode(x, new Generator(1)).Latent;
        var noisy2 = ae.Encode(x, new Generator(2)).Latent;
        Assert.True(noisy1.eq(noisy1Again).all().item<bool>());                            // the generator decides the noise
        Assert.False(noisy1.eq(noisy2).all().item<bool>());
        var perSampleStd = (noisy1 - clean).flatten(1).std(1);                            // ≈ α_b, 512 values per sample
        Assert.True(perSampleStd.max().item<float>() < 0.5 * 1.2);
        Assert.True(perSampleStd.min().item<float>() < 0.1);                             // α ~ U(0, 0.5): some small,
        Assert.True(perSampleStd.max().item<float>() > 0.4);                             // some close to γ
        Assert.InRange((noisy1 - clean).mean().item<float>(), -0.02f, 0.02f);
    }

    [Fact]
    public void KlVariantNormalisesTheMeanSamplesInTrainingAndReportsTheKl()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        using var ae = new ConvAutoencoder(TinyConvConfig(kl: true) with { NoiseStrength = 0 });
        var x = rand(2, 3, 32, 32) * 2 - 1;
        using var _ = no_grad();
        var raw = ae.encoder.forward(x);                                                   // [2, 16, 4, 4] = mean ⊕ logvar
        Assert.Equal([2L, 16, 4, 4], raw.shape);
        var mean = LatentAutoencoder.ChannelNorm(raw.narrow(1, 0, 8));
        var logvar = raw.narrow(1, 8, 8).clamp(-30, 20);
        var expectedKl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).sum([1, 2, 3]);
        ae.eval();
        var enc = ae.Encode(x);
        Assert.True(RelErr(enc.Latent, mean) < 1e-6);                                       // eval: the mean
        Assert.True(RelErr(enc.KlPerSample!, expectedKl) < 1e-5);
        ae.train();
        var sampled = ae.Encode(x, new Generator(3)).Latent;
        var eps = (sampled - mean) / (0.5 * logvar).exp();
        Assert.InRange(eps.std().item<float>(), 0.8f, 1.2f);                             // mean + σ·ε
    }

    [Fact]
    public void ConvBaselineEncodesToTheSameLatentShapeAndDecodesBack()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        using var ae = new ConvAutoencoder(TinyConvConfig());
        ae.eval();
        using var _ = no_grad();
        var (rec, enc) = ae.Reconstruct(rand(3, 3, 32, 32) * 2 - 1);
        Assert.Equal([3L, 8, 4, 4], enc.Latent.shape);
        Assert.Equal([3L, 3, 32, 32], rec.shape);
        Assert.Null(enc.DistillLoss);
        Assert.All(ae.state_dict().Keys, k => Assert.True(k.StartsWith("encoder.") || k.StartsWith("decoder."), k));
    }

    [Fact]
    public void ImagesOffTheStrideAreRefusedOrFittedByCropOrPad()
    {
        using var scope = NewDisposeScope();
        using var ae = new ConvAutoencoder(TinyConvConfig());
        var odd = rand(1, 3, 30, 37);
        var e = Assert.Throws<ArgumentException>(() => ae.Encode(odd));
        Assert.Contains("37×30 is not a multiple of the AE stride 8", e.Message);

        var crop = StrideFit.Fit(odd, 8, StrideFitMode.Crop);
        Assert.Equal([1L, 3, 24, 32], crop.Image.shape);
        Assert.Contains("centre-cropped to 32×24", crop.Description);
        Assert.True(crop.Image.eq(odd.narrow(2, 3, 24).narrow(3, 2, 32)).all().item<bool>());

        var pad = StrideFit.Fit(odd, 8, StrideFitMode.Pad);
        Assert.Equal([1L, 3, 32, 40], pad.Image.shape);
        Assert.Contains("edge-padded to 40×32", pad.Description);
        Assert.True(StrideFit.Restore(pad.Image, pad).eq(odd).all().item<bool>());
        Assert.True(pad.Image[0, 0, 0, 0].eq(odd[0, 0, 0, 0]).all().item<bool>());      // replicated corner

        Assert.Throws<ArgumentException>(() => StrideFit.Fit(rand(3, 5, 40), 8, StrideFitMode.Crop));
        Assert.Equal([3L, 8, 40], StrideFit.Fit(rand(3, 5, 40), 8, StrideFitMode.Pad).Image.shape);
    }
}
