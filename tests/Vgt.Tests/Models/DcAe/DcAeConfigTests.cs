using Vgt.Config;
using Vgt.Models.DcAe;

namespace Vgt.Tests.Models.DcAe;

public class DcAeConfigTests
{
    // The published sana-1.0 diffusers vae/config.json layout (backbones.md §1.1), which sana-1.1 shares.
    const string DiffusersSanaJson = """
        {
          "_class_name": "AutoencoderDC",
          "_diffusers_version": "0.32.0.dev0",
          "_name_or_path": "mit-han-lab/dc-ae-f32c32-sana-1.1-diffusers",
          "attention_head_dim": 32,
          "decoder_act_fns": "silu",
          "decoder_block_out_channels": [128, 256, 512, 512, 1024, 1024],
          "decoder_block_types": ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock", "EfficientViTBlock", "EfficientViTBlock"],
          "decoder_layers_per_block": [3, 3, 3, 3, 3, 3],
          "decoder_norm_types": "rms_norm",
          "decoder_qkv_multiscales": [[], [], [], [5], [5], [5]],
          "downsample_block_type": "Conv",
          "encoder_block_out_channels": [128, 256, 512, 512, 1024, 1024],
          "encoder_block_types": ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock", "EfficientViTBlock", "EfficientViTBlock"],
          "encoder_layers_per_block": [2, 2, 2, 3, 3, 3],
          "encoder_qkv_multiscales": [[], [], [], [5], [5], [5]],
          "in_channels": 3,
          "latent_channels": 32,
          "scaling_factor": 0.41407,
          "upsample_block_type": "interpolate"
        }
        """;

    [Fact]
    public void DiffusersConfigJsonParsesToTheSanaPreset()
    {
        var parsed = DcAeConfig.FromDiffusersJson(DiffusersSanaJson);
        Assert.Equal(ConfigJson.Serialize(DcAeConfig.Sana11F32C32), ConfigJson.Serialize(parsed));
        Assert.Equal("EfficientViTBlock", parsed.DecoderBlockType(3));
        Assert.Equal("rms_norm", parsed.DecoderNormType(5));
        Assert.Equal(32, parsed.SpatialCompressionRatio);
        Assert.True(parsed.InterpolateUpsampling);
        Assert.False(parsed.PixelUnshuffleDownsampling);
        Assert.Same(DcAeConfig.Sana11F32C32, DcAeConfig.Preset("mit-han-lab/dc-ae-f32c32-sana-1.1-diffusers"));
    }

    [Fact]
    public void LoadDiffusersReadsAModelFolder()
    {
        var dir = Directory.CreateTempSubdirectory("dcae-config-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), DiffusersSanaJson);
            Assert.Equal(0.41407, DcAeConfig.LoadDiffusers(dir.FullName).ScalingFactor);
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void MissingDiffusersFieldsTakeDiffusersDefaults()
    {
        var c = DcAeConfig.FromDiffusersJson("""{"_class_name": "AutoencoderDC", "latent_channels": 32}""");
        Assert.Equal("pixel_shuffle", c.UpsampleBlockType);
        Assert.Equal("pixel_unshuffle", c.DownsampleBlockType);
        Assert.Equal("ResBlock", c.DecoderBlockType(4));
        Assert.Equal([2, 2, 2, 3, 3, 3], c.EncoderLayersPerBlock);
        Assert.Equal(1.0, c.ScalingFactor);
    }

    [Fact]
    public void OwnJsonRoundTripsAndWritesDiffusersNames()
    {
        var json = ConfigJson.Serialize(DcAeConfig.Sana11F32C32);
        Assert.Contains("\"decoder_qkv_multiscales\"", json);
        Assert.Contains("\"decoder_norm_types\": \"rms_norm\"", json);
        Assert.Contains("\"upsample_block_type\": \"interpolate\"", json);
        Assert.Equal(json, ConfigJson.Serialize(ConfigJson.Deserialize<DcAeConfig>(json)));
    }

    [Fact]
    public void WrongClassAndUnknownFieldsAreRefused()
    {
        var e = Assert.Throws<ConfigValidationException>(() => DcAeConfig.FromDiffusersJson("""{"_class_name": "AutoencoderKL"}"""));
        Assert.Equal("_class_name", e.Field);
        Assert.Throws<ConfigValidationException>(() => DcAeConfig.FromDiffusersJson("""{"decoder_widths": [1]}"""));
    }

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { """{"decoder_block_types": ["ResBlock", "Attention"]}""", "decoder_block_types", "needs one value or 6" },
        { """{"decoder_block_types": "Attention"}""", "decoder_block_types", "\"Attention\" is not one of" },
        { """{"decoder_layers_per_block": [3, 3, 3]}""", "decoder_layers_per_block", "has 3 entries" },
        { """{"decoder_layers_per_block": [3, 0, 3, 3, 3, 3]}""", "decoder_layers_per_block", "stage 1 has 0 layers" },
        { """{"upsample_block_type": "bilinear"}""", "upsample_block_type", "must be \"interpolate\" or \"pixel_shuffle\"" },
        { """{"decoder_norm_types": "layer_norm"}""", "decoder_norm_types", "\"layer_norm\" is not one of" },
        { """{"latent_channels": 48}""", "decoder_in_shortcut", "divisible by latent_channels (48)" },
        { """{"decoder_block_out_channels": [128, 256, 512, 512, 1024, 3072]}""", "decoder_block_out_channels", "4·1024 divisible by 3072" },
        { """{"decoder_block_types": "EfficientViTBlock", "attention_head_dim": 96}""", "decoder_block_out_channels", "not a multiple of attention_head_dim (96)" },
        { """{"encoder_qkv_multiscales": [[], [], [], [4], [5], [5]]}""", "encoder_qkv_multiscales", "odd and positive" },
        { """{"downsample_block_type": "conv"}""", "downsample_block_type", "must be \"Conv\" or \"pixel_unshuffle\"" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void InvalidConfigsNameTheField(string json, string field, string problem)
    {
        var e = Assert.Throws<ConfigValidationException>(() => DcAeConfig.FromDiffusersJson(json));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message);
    }
}
