using TorchSharp;
using Vgt.Models.DcAe;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Models.DcAe;

/// <summary>Small full decoders/encoders against our PyTorch reference; configs come from the fixtures' diffusers-style metadata.</summary>
public class DcAeModelParityTests(ITestOutputHelper output)
{
    const double Tol = 1e-4;

    void Check(string what, Tensor actual, Tensor expected)
    {
        var err = DcAeFixture.RelErr(actual, expected);
        output.WriteLine($"{what}: rel err {err:E2}");
        Assert.True(err <= Tol, $"{what}: relative error {err:E3} > {Tol:E0}");
    }

    static DcAeConfig ConfigOf(string name) => DcAeConfig.FromDiffusersJson(DcAeFixture.MetadataConfig(name), name);

    [Fact]
    public void SmallDecoderMatchesReferenceStageByStage()
    {
        // widths [8,16,32], layers [1,2,2], [Res, EViT, EViT], head dim 8, latent 2×3 → stage 2 quadratic, stage 1 linear.
        using var _ = no_grad();
        using var f = DcAeFixture.Load("decoder_small");
        var config = ConfigOf("decoder_small");
        Assert.Equal([8, 16, 32], config.DecoderBlockOutChannels);
        using var decoder = f.Into(new DcAeDecoder(config));
        var z = f["input"];                                      // [2, 4, 2, 3]
        var x = decoder.ProjectIn(z);
        Check("decoder_small conv_in (+ shortcut)", x, f["expected.conv_in"]);
        for (int i = 2; i >= 0; i--)
        {
            x = decoder.RunStage(i, x);
            Check($"decoder_small stage {i}", x, f[$"expected.stage{i}"]);
        }
        Check("decoder_small output (stage-wise)", decoder.ProjectOut(x), f["expected"]);
        var y = decoder.forward(z);
        Assert.Equal(new long[] { 2, 3, 8, 12 }, y.shape);
        Check("decoder_small output", y, f["expected"]);
    }

    [Fact]
    public void SmallDecoderLoadsDiffusersNamedCheckpoint()
    {
        using var _ = no_grad();
        using var f = DcAeFixture.Load("decoder_small");
        using var decoder = new DcAeDecoder(ConfigOf("decoder_small"));
        var checkpoint = f.Weights("decoder.");
        checkpoint["encoder.conv_in.weight"] = zeros(1); // other prefixes are ignored
        decoder.LoadDiffusersState(checkpoint);
        Check("decoder_small via LoadDiffusersState", decoder.forward(f["input"]), f["expected"]);
    }

    [Fact]
    public void VariantDecoderMatchesReference()
    {
        // layers [0,1,1] (conv_out = shortcut-less pixel-shuffle up block), batch-norm + relu ResBlock, no input shortcut, silu out.
        using var _ = no_grad();
        using var f = DcAeFixture.Load("decoder_variant");
        var config = ConfigOf("decoder_variant");
        Assert.False(config.InterpolateUpsampling);
        using var decoder = f.Into(new DcAeDecoder(config));
        Assert.IsType<UpBlock>(decoder.conv_out);
        var y = decoder.forward(f["input"]);
        Assert.Equal(new long[] { 1, 3, 12, 16 }, y.shape);
        Check("decoder_variant output", y, f["expected"]);
    }

    [Fact]
    public void SmallEncoderMatchesReferenceStageByStage()
    {
        using var _ = no_grad();
        using var f = DcAeFixture.Load("encoder_small");
        using var encoder = f.Into(new DcAeEncoder(ConfigOf("encoder_small")));
        var x = encoder.ProjectIn(f["input"]);                   // [2, 3, 16, 24]
        Check("encoder_small conv_in", x, f["expected.conv_in"]);
        for (int i = 0; i < 3; i++)
        {
            x = encoder.RunStage(i, x);
            Check($"encoder_small stage {i}", x, f[$"expected.stage{i}"]);
        }
        var z = encoder.forward(f["input"]);
        Assert.Equal(new long[] { 2, 4, 4, 6 }, z.shape);
        Check("encoder_small output", z, f["expected"]);
    }

    [Fact]
    public void VariantEncoderMatchesReference()
    {
        // layers [0,1,1] (conv_in = shortcut-less pixel-unshuffle down block), EViT stages, no output shortcut.
        using var _ = no_grad();
        using var f = DcAeFixture.Load("encoder_variant");
        using var encoder = f.Into(new DcAeEncoder(ConfigOf("encoder_variant")));
        var z = encoder.forward(f["input"]);
        Assert.Equal(new long[] { 1, 4, 3, 4 }, z.shape);
        Check("encoder_variant output", z, f["expected"]);
    }

    [Fact]
    public void DecoderBackpropagatesThroughTheInPlaceOps()
    {
        // VGT-AE fine-tunes the decoder: the in-place adds must not break autograd. d(sum y)/dz is compared with a
        // central finite difference on one latent element (fp64 copy of the model for a clean difference).
        using var f = DcAeFixture.Load("decoder_small");
        using var decoder = f.Into(new DcAeDecoder(ConfigOf("decoder_small")));
        decoder.to(ScalarType.Float64);
        var z = f["input"].to_type(ScalarType.Float64).requires_grad_(true);
        decoder.forward(z).sum().backward();
        var analytic = z.grad!.flatten()[5].item<double>();
        using var _ = no_grad();
        const double h = 1e-4;
        var zp = z.detach().clone(); zp.flatten()[5] += h;
        var zm = z.detach().clone(); zm.flatten()[5] -= h;
        var numeric = (decoder.forward(zp).sum().item<double>() - decoder.forward(zm).sum().item<double>()) / (2 * h);
        output.WriteLine($"dL/dz[5]: autograd {analytic:F6}, finite difference {numeric:F6}");
        Assert.True(Math.Abs(analytic - numeric) <= 1e-5 * Math.Max(1, Math.Abs(numeric)), $"{analytic} vs {numeric}");
        Assert.True(decoder.conv_in.weight!.grad is { } g && g.abs().sum().item<double>() > 0);
    }

    [Fact]
    public void BadInputsAreRefusedWithTheExpectedShape()
    {
        using var decoder = new DcAeDecoder(ConfigOf("decoder_small"), META);
        var e = Assert.Throws<ArgumentException>(() => decoder.forward(zeros(1, 5, 2, 2)));
        Assert.Contains("[B, 4, h, w]", e.Message);
        using var encoder = new DcAeEncoder(ConfigOf("encoder_small"), META);
        e = Assert.Throws<ArgumentException>(() => encoder.forward(zeros(1, 3, 10, 8)));
        Assert.Contains("multiples of 4", e.Message);
    }
}
