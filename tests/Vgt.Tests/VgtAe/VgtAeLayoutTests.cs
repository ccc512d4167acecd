using System.Diagnostics;
using TorchSharp;
using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Models.DcAe;
using Vgt.Models.VgtAe;
using Xunit.Abstractions;
using static TorchSharp.torch;
using static Vgt.Tests.VgtAe.VgtAeTestSupport;

namespace Vgt.Tests.VgtAe;

/// <summary>The official checkpoint layout, the real configuration on the meta device, model directories.</summary>
public class VgtAeLayoutTests(ITestOutputHelper output)
{
    private static readonly Device Meta = new(DeviceType.META);

    [Fact]
    public void OfficialTorchSaveCheckpointLoadsWithAndWithoutTheTeacher()
    {
        using var scope = NewDisposeScope();
        var fx = LoadAll("encoder_path.safetensors");
        using var ck = CheckpointReader.Open(FixturePath("vgt_ae_tiny.pth"));
        Assert.Equal("torch-zip", ck.Format);
        foreach (var prefix in new[] { "encoder.", "mlp1.", "down_blocks.", "down_mlp.", "decoder.", "teacher.", "teacher_mlp1." })
            Assert.Contains(ck.Names, n => n.StartsWith(prefix, StringComparison.Ordinal));

        using var withTeacher = new VgtAutoencoder(TinyVlmConfig(teacher: true));
        var report = VgtAeModel.LoadWeights(withTeacher, ck);
        Assert.Equal(ck.Names.Count, report.Loaded.Count);
        foreach (var (name, t) in withTeacher.state_dict())
            Assert.True(t.eq(fx[name]).all().item<bool>(), $"{name} differs from the fixture");

        using var inference = new VgtAutoencoder(TinyVlmConfig(teacher: false));
        report = VgtAeModel.LoadWeights(inference, ck);
        Assert.DoesNotContain(report.Loaded, n => n.StartsWith("teacher"));
        inference.eval();
        using var _ = no_grad();
        Assert.True(RelErr(inference.Encode(fx["in.images"]).Latent, fx["out.latent"]) <= 1e-4);
    }

    [Fact]
    public void PixelShuffleDecoderCheckpointIsRefusedWithTheDiagnosis()
    {
        using var scope = NewDisposeScope();
        using var ck = CheckpointReader.Open(FixturePath("vgt_ae_tiny_pixel_shuffle.pth"));
        using var ae = new VgtAutoencoder(TinyVlmConfig(teacher: false));
        var before = ae.decoder.conv_in.weight!.clone();
        var e = Assert.Throws<DcAeCheckpointException>(() => VgtAeModel.LoadWeights(ae, ck));
        output.WriteLine(e.Message);
        Assert.Contains("pixel-shuffle up-sampling variant", e.Message);
        Assert.Contains("decoder.up_blocks.0.0.conv.weight is [32, 16, 3, 3]", e.Message);
        Assert.True(ae.decoder.conv_in.weight!.eq(before).all().item<bool>());   // nothing was copied
    }

    [Fact]
    public void CheckpointOfAnotherSizeIsRefusedBeforeAnythingIsCopied()
    {
        using var scope = NewDisposeScope();
        using var ck = CheckpointReader.Open(FixturePath("vgt_ae_tiny.pth"));
        var tiny = TinyVlmConfig(teacher: false);
        using var ae = new VgtAutoencoder(tiny with { Vision = tiny.Vision! with { ProjectorSize = 20 } });
        var e = Assert.Throws<InvalidDataException>(() => VgtAeModel.LoadWeights(ae, ck));
        Assert.Contains("shape mismatch: mlp1.1.weight: AE [20, 64], checkpoint [24, 64]", e.Message);
    }

    [Fact]
    public void RealInternVl3ConfigBuildsOnTheMetaDeviceWithTheOfficialNamesAndShapes()
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var config = VgtAeConfig.InternVl3_1B;
        Assert.Equal(28, config.Stride);
        using var ae = new VgtAutoencoder(config, Meta);
        output.WriteLine($"VGT-AE InternVL3-1B on the meta device: {clock.Elapsed.TotalSeconds:F1} s");
        var sd = ae.state_dict();
        int Count(string prefix) => sd.Keys.Count(k => k.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Equal(340, Count("encoder."));
        Assert.Equal(6, Count("mlp1."));
        Assert.Equal(18, Count("down_blocks."));
        Assert.Equal(6, Count("down_mlp."));
        Assert.Equal(196, Count("decoder."));
        Assert.Equal(340, Count("teacher."));
        Assert.Equal(6, Count("teacher_mlp1."));
        Assert.Equal(912, sd.Count);
        void Shape(string key, params long[] shape) => Assert.Equal(shape, sd[key].shape);
        Shape("encoder.embeddings.position_embedding", 1, 1025, 1024);
        Shape("encoder.encoder.layers.23.attn.qkv.weight", 3072, 1024);
        Shape("mlp1.1.weight", 896, 4096);
        Shape("down_blocks.2.mlp.0.weight", 896);
        Shape("down_blocks.0.mlp.3.weight", 896, 896);
        Shape("down_mlp.0.weight", 896);
        Shape("down_mlp.1.weight", 32, 896);
        Shape("down_mlp.3.weight", 32, 32);
        Shape("teacher.encoder.layers.0.mlp.fc1.weight", 4096, 1024);
        Shape("teacher_mlp1.3.weight", 896, 896);
        // the decoder is exactly the 196 diffusers tensors of dc-ae-f32c32-sana-1.1
        var keys = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dcae", "dcae-decoder-keys.txt"))
            .Where(l => l.Length > 0).Select(l => l.Split('\t')).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(keys.Keys.Order(), sd.Keys.Where(k => k.StartsWith("decoder.")).Order());
        foreach (var (k, shape) in keys) Assert.Equal(shape, "[" + string.Join(", ", sd[k].shape) + "]");

        long exported = ae.ExportState().Values.Sum(t => t.numel());
        Assert.Equal(304_012_288L + 4_482_816 + 3 * 1_609_216 + 31_552 + 159_223_171, exported);
        Assert.Equal(exported + 304_012_288L + 4_482_816, sd.Values.Sum(t => t.numel()));
        // the teacher is frozen, everything else trains
        Assert.Equal(exported, ae.TrainableParameters().Sum(p => p.Param.numel()));
    }

    [Fact]
    public void ConfigRoundTripsThroughJson()
    {
        foreach (var config in new[] { VgtAeConfig.InternVl3_1B, TinyVlmConfig(), TinyConvConfig(kl: true) })
        {
            var json = ConfigJson.Serialize(config);
            var back = ConfigJson.Deserialize<VgtAeConfig>(json);
            Assert.Equal(json, ConfigJson.Serialize(back));
            Assert.Equal(config.Stride, back.Stride);
        }
        var e = Assert.Throws<ConfigValidationException>(() => ConfigJson.Deserialize<VgtAeConfig>(
            ConfigJson.Serialize(TinyVlmConfig() with { ImageSize = 25 })));
        Assert.Equal("image_size", e.Field);
        e = Assert.Throws<ConfigValidationException>(() => (TinyVlmConfig() with { LatentChannels = 16 }).Validate());
        Assert.Equal("dc_ae.latent_channels", e.Field);
    }

    [Fact]
    public void ModelDirectoryRoundTripsWithoutTheTeacher()
    {
        using var scope = NewDisposeScope();
        var dir = Path.Combine(Path.GetTempPath(), "vgtae-dir-" + Guid.NewGuid().ToString("N"));
        try
        {
            manual_seed(5);
            using var ae = new VgtAutoencoder(TinyVlmConfig(teacher: true) with { VlmSource = "some-vlm" });
            VgtAeModel.Save(ae, dir, "# card\n");
            using (var ck = CheckpointReader.Open(Path.Combine(dir, VgtAeModel.WeightsFile)))
                Assert.DoesNotContain(ck.Names, n => n.StartsWith("teacher"));
            using var back = VgtAeModel.Load(dir);
            Assert.IsType<VgtAutoencoder>(back);
            Assert.False(back.Config.Teacher);
            Assert.Equal("some-vlm", back.Config.VlmSource);
            ae.eval();
            back.eval();
            using var _ = no_grad();
            var x = rand(1, 3, 24, 24) * 2 - 1;
            Assert.True(ae.Decode(ae.Encode(x).Latent).eq(back.Decode(back.Encode(x).Latent)).all().item<bool>());
            // The generator side opens the same directory as a frozen latent autoencoder.
            using var frozen = Vgt.Pipelines.LatentAutoencoders.Load(dir);
            Assert.Equal("vgt_ae", frozen.Kind);
            Assert.Equal(ae.Stride, frozen.Stride);
            Assert.Equal(64, frozen.WeightsSha256.Length);
            // Same latents bit for bit. The decoder of a separately loaded copy can differ in the last bits: 7.5e-7 with 2
            // threads when this test runs alone, 0 in the suite orders before session 10. Same weights, input, eval mode and
            // no_grad; the cause is not pinned down (a kernel path that depends on the tensors' memory, most likely).
            var z = frozen.Encode(x);
            Assert.True(z.eq(back.Encode(x).Latent).all().item<bool>());
            Assert.True(frozen.Decode(z).allclose(back.Decode(z), rtol: 0, atol: 1e-5));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
