using Vgt.Models.VgtAe;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Vgt.Tests.VgtAe.VgtAeTestSupport;

namespace Vgt.Tests.VgtAe;

/// <summary>
/// fp32 parity with our PyTorch reference (tools/fixtures/make_vgtae_fixtures.py): the encoder path of a tiny random
/// InternViT + pixel shuffle + mlp1 + 3 residual MLP blocks + down_mlp + channel norm, the distillation loss against a
/// teacher that differs from the student, the decoder with the stride resize, and the reference's min ≥ 0 quirk.
/// </summary>
public class VgtAeParityTests(ITestOutputHelper output) : IDisposable
{
    private readonly Dictionary<string, Tensor> fx = LoadAll("encoder_path.safetensors");

    public void Dispose()
    {
        foreach (var t in fx.Values) t.Dispose();
    }

    private VgtAutoencoder Build(VgtAeConfig config)
    {
        var ae = new VgtAutoencoder(config);
        LoadWeights(ae, fx);
        ae.eval();
        return ae;
    }

    private void Check(string what, Tensor actual, Tensor expected)
    {
        double err = RelErr(actual, expected);
        output.WriteLine($"{what}: relative error {err:E2}");
        Assert.True(err <= 1e-4, $"{what}: relative error {err:E2} > 1e-4");
    }

    [Fact]
    public void EncoderPathWithChannelNormMatchesTheReference()
    {
        using var scope = NewDisposeScope();
        using var ae = Build(TinyVlmConfig());
        var images = fx["in.images"];
        using var _ = no_grad();
        Check("post-mlp1 features", ae.SemanticFeatures(ae.NormalisePixels(images)), fx["out.features"]);
        Check("teacher features", ae.TeacherFeatures(images), fx["out.teacher_features"]);
        var enc = ae.Encode(images);
        Assert.Equal([2L, 8, 4, 4], enc.Latent.shape);
        Assert.Null(enc.DistillLoss);   // eval mode: no distillation
        Check("latent (channel norm)", enc.Latent, fx["out.latent"]);
        // channel norm: zero mean, unit biased variance over C at every position
        Assert.True(enc.Latent.mean([1]).abs().max().item<float>() < 1e-5);
        Assert.True((enc.Latent.var(1, unbiased: false) - 1).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void RawLatentWithoutChannelNormMatchesTheReference()
    {
        using var scope = NewDisposeScope();
        using var ae = Build(TinyVlmConfig(channelNorm: false));
        using var _ = no_grad();
        Check("latent (stage 1, no channel norm)", ae.Encode(fx["in.images"]).Latent, fx["out.raw"]);
    }

    [Fact]
    public void DistillationLossIsTheMseToTheFrozenTeacher()
    {
        using var scope = NewDisposeScope();
        using var ae = Build(TinyVlmConfig());
        ae.train();
        var enc = ae.Encode(fx["in.images"]);
        Assert.NotNull(enc.DistillLoss);
        Check("distill loss", enc.DistillLoss!.reshape(1), fx["out.distill"]);
        Assert.True(fx["out.distill"].item<float>() > 1e-4);   // the fixture's student really differs from its teacher
        // the gradient reaches the student's tower and projector, never the teacher
        enc.DistillLoss!.backward();
        Assert.True(ae.encoder.named_parameters().First(p => p.name == "embeddings.patch_embedding.weight").parameter.grad is { } gsum
                    && gsum.abs().sum().item<float>() > 0);
        Assert.All(ae.teacher!.parameters(), p => Assert.False(p.requires_grad));
        Assert.DoesNotContain(ae.TrainableParameters(), p => p.Name.StartsWith("teacher"));
    }

    [Fact]
    public void DecodeMatchesTheReferenceIncludingTheStrideResize()
    {
        using var scope = NewDisposeScope();
        using var ae = Build(TinyVlmConfig());
        using var _ = no_grad();
        var x = ae.Decode(fx["out.latent"]);   // decoder ×8 gives 32 px, resized to stride 6 × 4 = 24 px
        Assert.Equal([2L, 3, 24, 24], x.shape);
        Check("decoded", x, fx["out.decoded"]);
    }

    [Fact]
    public void InputsAreAlwaysNormalisedUnlessTheReferenceQuirkIsAskedFor()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var second = fx["in.images"].narrow(0, 1, 1);   // every pixel >= 0 in [−1,1] space
        Assert.True(second.min().item<float>() >= 0);
        using (var ae = Build(TinyVlmConfig()))
            Check("image with min >= 0, always normalised", ae.Encode(second).Latent, fx["out.latent"].narrow(0, 1, 1));
        using (var quirk = Build(TinyVlmConfig() with { ReferenceNormalizationQuirk = true }))
        {
            Check("image with min >= 0, reference quirk", quirk.Encode(second).Latent, fx["out.latent_quirk1"]);
            // the quirk changes nothing for images with a negative pixel
            Check("image with min < 0, quirk on", quirk.Encode(fx["in.images"].narrow(0, 0, 1)).Latent, fx["out.latent"].narrow(0, 0, 1));
        }
        Assert.True(RelErr(fx["out.latent_quirk1"], fx["out.latent"].narrow(0, 1, 1)) > 0.05);
    }
}
