using Vgt.Models.DcAe;
using static TorchSharp.torch;

namespace Vgt.Tests.Models.DcAe;

/// <summary>
/// The real dc-ae-f32c32-sana-1.1 architecture, built on the meta device: shapes only, no memory (the fp32 decoder
/// alone would be 637 MB and take seconds to initialise), so its key set can be checked in milliseconds.
/// </summary>
public class DcAeRealConfigTests
{
    static Dictionary<string, long[]> ReferenceDecoderKeys()
    {
        var keys = new Dictionary<string, long[]>();
        foreach (var line in File.ReadAllLines(DcAeFixture.PathOf("dcae-decoder-keys.txt")).Where(l => l.Length > 0))
        {
            var parts = line.Split('\t');
            keys.Add(parts[0], parts[1].Trim('[', ']').Split(',').Select(s => long.Parse(s.Trim())).ToArray());
        }
        return keys;
    }

    [Fact]
    public void RealDecoderStateDictEqualsTheDiffusersKeyList()
    {
        var reference = ReferenceDecoderKeys();
        Assert.Equal(196, reference.Count);
        using var decoder = new DcAeDecoder(DcAeConfig.Sana11F32C32, META);
        var ours = decoder.state_dict().ToDictionary(kv => "decoder." + kv.Key, kv => kv.Value.shape);
        Assert.Equal(reference.Keys.Order(), ours.Keys.Order());
        foreach (var (key, shape) in reference) Assert.True(shape.SequenceEqual(ours[key]), $"{key}: [{string.Join(",", ours[key])}] vs [{string.Join(",", shape)}]");
        Assert.Equal(159_223_171L, decoder.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void RealEncoderHasTheDiffusersLayout()
    {
        var shapes = DcAeCheckpointShapes.ExpectedEncoder(DcAeConfig.Sana11F32C32);
        Assert.Equal(179, shapes.Count);
        Assert.Equal(153_027_104L, shapes.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b))); // our PyTorch reference's count
        Assert.Equal([128, 3, 3, 3], shapes["encoder.conv_in.weight"]);
        Assert.Equal([256, 128, 3, 3], shapes["encoder.down_blocks.0.2.conv.weight"]);      // stride-2 "Conv" down block after 2 layers
        Assert.Equal([1024, 512, 3, 3], shapes["encoder.down_blocks.3.3.conv.weight"]);
        Assert.Equal([3072, 32, 1, 1], shapes["encoder.down_blocks.5.2.attn.to_qkv_multiscale.0.proj_out.weight"]);
        Assert.Equal([32, 1024, 3, 3], shapes["encoder.conv_out.weight"]);
        Assert.False(shapes.ContainsKey("encoder.down_blocks.5.3.conv.weight"));             // no down block after the last stage
    }

    [Fact]
    public void CheckpointWithTheRightShapesPasses()
    {
        var shapes = ReferenceDecoderKeys();
        shapes["encoder.conv_in.weight"] = [128, 3, 3, 3]; // outside the prefix: ignored
        DcAeCheckpointShapes.CheckDecoder(DcAeConfig.Sana11F32C32, shapes);
    }

    [Fact]
    public void PixelShuffleCheckpointIsRefusedForAnInterpolateConfig()
    {
        var pixelShuffle = DcAeConfig.Sana11F32C32 with { UpsampleBlockType = "pixel_shuffle" };
        var shapes = DcAeCheckpointShapes.ExpectedDecoder(pixelShuffle);
        Assert.Equal([4096, 1024, 3, 3], shapes["decoder.up_blocks.4.0.conv.weight"]);
        var e = Assert.Throws<DcAeCheckpointException>(() => DcAeCheckpointShapes.CheckDecoder(DcAeConfig.Sana11F32C32, shapes));
        Assert.StartsWith("This checkpoint uses the pixel-shuffle up-sampling variant but the config says interpolate", e.Message);
        Assert.Contains("decoder.up_blocks.0.0.conv.weight is [512, 256, 3, 3]", e.Message);
        Assert.Contains("needs [128, 256, 3, 3]", e.Message);
    }

    [Fact]
    public void InterpolateCheckpointIsRefusedForAPixelShuffleConfig()
    {
        var pixelShuffle = DcAeConfig.Sana11F32C32 with { UpsampleBlockType = "pixel_shuffle" };
        var e = Assert.Throws<DcAeCheckpointException>(() => DcAeCheckpointShapes.CheckDecoder(pixelShuffle, ReferenceDecoderKeys()));
        Assert.StartsWith("This checkpoint uses the interpolate up-sampling variant but the config says pixel_shuffle", e.Message);
    }

    [Fact]
    public void OtherMismatchesAreListed()
    {
        var shapes = ReferenceDecoderKeys();
        shapes.Remove("decoder.norm_out.bias");
        shapes["decoder.up_blocks.5.3.conv1.weight"] = [1024, 1024, 3, 3];
        shapes["decoder.up_blocks.3.1.attn.to_q.weight"] = [256, 512];
        var e = Assert.Throws<DcAeCheckpointException>(() => DcAeCheckpointShapes.CheckDecoder(DcAeConfig.Sana11F32C32, shapes));
        Assert.Contains("3 problem(s)", e.Message);
        Assert.Contains("missing decoder.norm_out.bias [128]", e.Message);
        Assert.Contains("unexpected decoder.up_blocks.5.3.conv1.weight", e.Message);
        Assert.Contains("decoder.up_blocks.3.1.attn.to_q.weight is [256, 512], expected [512, 512]", e.Message);
    }

    [Fact]
    public void DownsamplingVariantIsDiagnosedForTheEncoder()
    {
        var unshuffle = DcAeConfig.Sana11F32C32 with { DownsampleBlockType = "pixel_unshuffle" };
        var e = Assert.Throws<DcAeCheckpointException>(() =>
            DcAeCheckpointShapes.CheckEncoder(DcAeConfig.Sana11F32C32, DcAeCheckpointShapes.ExpectedEncoder(unshuffle)));
        Assert.StartsWith("This checkpoint uses the pixel-unshuffle down-sampling variant but the config says Conv", e.Message);
        DcAeCheckpointShapes.CheckEncoder(unshuffle, DcAeCheckpointShapes.ExpectedEncoder(unshuffle));
    }
}
