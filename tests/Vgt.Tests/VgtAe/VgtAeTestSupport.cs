using Vgt.Checkpoints;
using Vgt.Models.DcAe;
using Vgt.Models.InternVit;
using Vgt.Models.InternVl;
using Vgt.Models.VgtAe;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtAe;

/// <summary>Fixtures from tools/fixtures/make_vgtae_fixtures.py and the tiny configurations they were made with.</summary>
internal static class VgtAeTestSupport
{
    public static string FixturePath(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "vgtae", file);

    /// <summary>Every tensor of a fixture file (fp32), read with the project's checkpoint reader.</summary>
    public static Dictionary<string, Tensor> LoadAll(string file)
    {
        using var ck = CheckpointReader.Open(FixturePath(file));
        return ck.Names.ToDictionary(n => n, n => ck.Load(n).DetachFromDisposeScope());
    }

    /// <summary>The tiny decoder of the fixture: 4 stages (×8), ResBlock ×2 then EfficientViT ×2 (head dim 8, multiscale 3).</summary>
    public static DcAeConfig TinyDecoder(int latentChannels = 8, string upsample = "interpolate") => new()
    {
        LatentChannels = latentChannels,
        AttentionHeadDim = 8,
        DecoderBlockTypes = ["ResBlock", "ResBlock", "EfficientViTBlock", "EfficientViTBlock"],
        DecoderBlockOutChannels = [8, 16, 16, 32],
        DecoderLayersPerBlock = [1, 1, 1, 1],
        DecoderQkvMultiscales = [[], [], [3], [3]],
        UpsampleBlockType = upsample,
        DecoderNormTypes = ["rms_norm"],
        DecoderActFns = ["silu"],
        DecoderConvActFn = "relu",
        EncoderBlockTypes = ["ResBlock", "ResBlock", "ResBlock", "ResBlock"],
        EncoderBlockOutChannels = [8, 16, 16, 32],
        EncoderLayersPerBlock = [1, 1, 1, 1],
        EncoderQkvMultiscales = [[], [], [], []],
        DownsampleBlockType = "Conv",
    };

    /// <summary>The fixture's AE: InternViT (16 wide, 2 layers, patch 3, 24 px) → shuffle ×2 → mlp1 (24) → C = 8; stride 6.</summary>
    public static VgtAeConfig TinyVlmConfig(bool channelNorm = true, bool teacher = true) => new()
    {
        Encoder = AeEncoderKind.Vlm,
        Vision = new VgtAeVisionConfig(
            new InternVitConfig(HiddenSize: 16, IntermediateSize: 24, NumHiddenLayers: 2, NumAttentionHeads: 2, PatchSize: 3,
                ImageSize: 24, QkvBias: true, QkNormalization: false, NormType: InternVitNormType.LayerNorm, LayerNormEps: 1e-6),
            DownsampleRatio: 0.5, PsVersion: PixelShuffleVersion.V2, ProjectorSize: 24),
        LatentChannels = 8,
        ChannelNorm = channelNorm,
        NoiseStrength = 0.0,
        Teacher = teacher,
        DcAe = TinyDecoder(),
        ImageSize = 24,
    };

    /// <summary>A tiny conv baseline: 4 encoder stages (×8), C = 8, stride 8.</summary>
    public static VgtAeConfig TinyConvConfig(bool kl = false) => new()
    {
        Encoder = AeEncoderKind.Conv,
        Vision = null,
        LatentChannels = 8,
        ChannelNorm = true,
        NoiseStrength = 0.1,
        Kl = kl,
        Teacher = false,
        DcAe = TinyDecoder(),
        ImageSize = 32,
    };

    /// <summary>Loads the fixture's weights into the AE strictly (names and shapes must agree both ways).</summary>
    public static void LoadWeights(nn.Module ae, Dictionary<string, Tensor> fixture)
    {
        var own = ae.state_dict();
        var weights = fixture.Where(kv => !kv.Key.StartsWith("in.") && !kv.Key.StartsWith("out.")).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(weights.Keys.Order(), own.Keys.Order());
        using var _ = no_grad();
        foreach (var (name, t) in own) t.copy_(weights[name]);
    }

    /// <summary>max |a − b| / max |b|.</summary>
    public static double RelErr(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var diff = (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max().item<double>();
        return diff / expected.to_type(ScalarType.Float64).abs().max().item<double>();
    }
}
