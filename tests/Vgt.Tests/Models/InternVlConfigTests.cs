using System.Text.Json.Nodes;
using Vgt.Config;
using Vgt.Models.InternVit;
using Vgt.Models.InternVl;
using Vgt.Models.Qwen2;

namespace Vgt.Tests.Models;

public class InternVlConfigTests
{
    private static string HfConfigText() =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "vlm", "hf", "internvl3_1b_config.json"));

    [Fact]
    public void ParameterCountsMatchTheSpecBudget()
    {
        // backbones.md §6.1
        Assert.Equal(304_012_288, InternVitConfig.InternViT300M_448px_V2_5.ParameterCount());
        Assert.Equal(4_482_816, InternVlConfig.InternVl3_1B.ProjectorParameterCount());
        Assert.Equal(8_662_016, InternVlConfig.InternVl3_2B.ProjectorParameterCount());
        Assert.Equal(629_697_920, Qwen2Config.InternVl3_1B.ParameterCount());
        Assert.Equal(1_776_283_136, Qwen2Config.InternVl3_2B.ParameterCount());
        Assert.Equal(938_193_024, InternVlConfig.InternVl3_1B.ParameterCount());
        Assert.Equal(2_088_957_440, InternVlConfig.InternVl3_2B.ParameterCount());
    }

    [Fact]
    public void PresetsCarryTheReferenceValues()
    {
        var c = InternVlConfig.InternVl3_1B;
        Assert.Equal(256, c.NumImageTokens);
        Assert.Equal(4096, c.ProjectorInputSize);
        Assert.Equal(24, c.VisionLayersToRun);
        Assert.Equal(64, c.Llm.ResolvedHeadDim);
        Assert.Equal(7, c.Llm.KvGroups);
        Assert.Equal(128, InternVlConfig.InternVl3_2B.Llm.ResolvedHeadDim);
        Assert.Equal(64, c.Vision.HeadDim);
        Assert.Equal(32, c.Vision.TrainedGrid);
    }

    [Fact]
    public void PresetsRoundTripThroughConfigJson()
    {
        foreach (var preset in new[] { InternVlConfig.InternVl3_1B, InternVlConfig.InternVl3_2B })
        {
            var json = ConfigJson.Serialize(preset);
            Assert.Contains("\"ps_version\": \"v2\"", json);
            Assert.Contains("\"norm_type\": \"layer_norm\"", json);
            Assert.DoesNotContain("resolved_head_dim", json);
            Assert.Equal(preset, ConfigJson.Deserialize<InternVlConfig>(json));
        }
    }

    [Fact]
    public void HuggingFaceConfigOfInternVl3_1BParsesToThePreset()
    {
        Assert.Equal(InternVlConfig.InternVl3_1B, InternVlHfConfig.Parse(HfConfigText()));
    }

    [Fact]
    public void HuggingFaceConfigWithTheTwoBLlmParsesToThePreset()
    {
        var doc = JsonNode.Parse(HfConfigText())!;
        var llm = doc["llm_config"]!;
        llm["hidden_size"] = 1536;
        llm["intermediate_size"] = 8960;
        llm["num_hidden_layers"] = 28;
        llm["num_attention_heads"] = 12;
        doc["hidden_size"] = 1536;
        Assert.Equal(InternVlConfig.InternVl3_2B, InternVlHfConfig.Parse(doc.ToJsonString()));
    }

    [Fact]
    public void HuggingFaceConfigDirectoryIsRead()
    {
        var dir = Directory.CreateTempSubdirectory("vgt-ivl-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), HfConfigText());
            Assert.Equal(InternVlConfig.InternVl3_1B, InternVlHfConfig.LoadDirectory(dir.FullName));
            File.Delete(Path.Combine(dir.FullName, "config.json"));
            Assert.Throws<FileNotFoundException>(() => InternVlHfConfig.LoadDirectory(dir.FullName));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Theory]
    [InlineData("llm_config", "model_type", "\"internlm2\"", "llm_config.model_type")]
    [InlineData("llm_config", "num_key_value_heads", "3", "llm_config.num_key_value_heads")]
    [InlineData("vision_config", "norm_type", "\"batch_norm\"", "vision_config.norm_type")]
    [InlineData("vision_config", "hidden_act", "\"gelu_pytorch_tanh\"", "vision_config.hidden_act")]
    [InlineData("vision_config", "use_moe", "true", "vision_config.use_moe")]
    [InlineData("", "ps_version", "\"v3\"", "ps_version")]
    [InlineData("", "downsample_ratio", "0.3", "downsample_ratio")]
    public void HuggingFaceConfigProblemsNameTheField(string section, string field, string value, string expectedField)
    {
        var doc = JsonNode.Parse(HfConfigText())!;
        var target = section == "" ? doc : doc[section]!;
        target[field] = JsonNode.Parse(value);
        if (field == "model_type") target["architectures"] = new JsonArray("InternLM2ForCausalLM");
        var e = Assert.Throws<ConfigValidationException>(() => InternVlHfConfig.Parse(doc.ToJsonString()));
        Assert.Equal(expectedField, e.Field);
    }

    [Fact]
    public void HuggingFaceConfigMissingRequiredFieldIsNamed()
    {
        var doc = JsonNode.Parse(HfConfigText())!.AsObject();
        doc["vision_config"]!.AsObject().Remove("patch_size");
        var e = Assert.Throws<ConfigValidationException>(() => InternVlHfConfig.Parse(doc.ToJsonString()));
        Assert.Equal("vision_config.patch_size", e.Field);
        doc = JsonNode.Parse(HfConfigText())!.AsObject();
        doc.Remove("llm_config");
        Assert.Equal("llm_config", Assert.Throws<ConfigValidationException>(() => InternVlHfConfig.Parse(doc.ToJsonString())).Field);
    }

    [Fact]
    public void ValidationNamesTheBadField()
    {
        var bad = InternVlConfig.InternVl3_1B with { Llm = Qwen2Config.InternVl3_1B with { NumKeyValueHeads = 4 } };
        Assert.Equal("num_key_value_heads", Assert.Throws<ConfigValidationException>(bad.Validate).Field);
        var odd = Qwen2Config.InternVl3_1B with { HeadDim = 63 };
        Assert.Equal("head_dim", Assert.Throws<ConfigValidationException>(odd.Validate).Field);
        var vit = InternVitConfig.InternViT300M_448px_V2_5 with { ImageSize = 450 };
        Assert.Equal("image_size", Assert.Throws<ConfigValidationException>(vit.Validate).Field);
        var sel = InternVlConfig.InternVl3_1B with { SelectLayer = -26 };
        Assert.Equal("select_layer", Assert.Throws<ConfigValidationException>(sel.Validate).Field);
        var json = ConfigJson.Serialize(InternVlConfig.InternVl3_1B).Replace("\"select_layer\"", "\"selected_layer\"");
        Assert.Throws<ConfigValidationException>(() => ConfigJson.Deserialize<InternVlConfig>(json));
    }
}
