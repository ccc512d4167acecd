using TorchSharp;
using Vgt.Config;
using Vgt.Models.InternVl;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

public class InternVlParityTests(ITestOutputHelper output)
{
    [Fact]
    public void VisionToMlp1ToLlmMatchesReference()
    {
        using var fx = VlmFixture.Load("internvl_small.safetensors");
        using var scope = NewDisposeScope();
        var config = ConfigJson.Deserialize<InternVlConfig>(fx.Metadata["config"], "internvl_small");
        Assert.Equal(3, config.Llm.KvGroups);
        long imageToken = long.Parse(fx.Metadata["image_token_id"]);
        var model = new InternVlModel(config);
        fx.LoadInto(model);
        model.eval();
        using var _ = no_grad();

        var vit = model.ExtractFeature(fx["in.pixels"]);
        var vitErr = VlmFixture.RelErr(vit, fx["out.vit_embeds"]);
        var logits = model.Forward(fx["in.ids"], fx["in.pixels"], imageToken);
        var logitErr = VlmFixture.RelErr(logits, fx["out.logits"]);
        output.WriteLine($"internvl vit_embeds: rel err {vitErr:E2}; logits: rel err {logitErr:E2}");
        Assert.Equal(config.NumImageTokens, vit.shape[1]);
        Assert.True(vitErr <= 1e-4, $"vit_embeds rel err {vitErr:E2}");
        Assert.True(logitErr <= 1e-4, $"logits rel err {logitErr:E2}");
    }

    [Fact]
    public void ImageTokenCountMustMatchThePrompt()
    {
        using var fx = VlmFixture.Load("internvl_small.safetensors");
        using var scope = NewDisposeScope();
        var config = ConfigJson.Deserialize<InternVlConfig>(fx.Metadata["config"], "internvl_small");
        var model = new InternVlModel(config);
        var ids = fx["in.ids"].clone();
        ids[0, 2] = tensor(1L);   // one image-context token fewer
        var e = Assert.Throws<ArgumentException>(() => model.Forward(ids, fx["in.pixels"], 49));
        Assert.Contains("7 image-context tokens (id 49) but the images give 8", e.Message);
    }

    [Fact]
    public void StateDictUsesInternVlPrefixes()
    {
        using var fx = VlmFixture.Load("internvl_small.safetensors");
        using var scope = NewDisposeScope();
        var config = ConfigJson.Deserialize<InternVlConfig>(fx.Metadata["config"], "internvl_small");
        var names = new InternVlModel(config).state_dict().Keys.ToHashSet();
        Assert.Contains("vision_model.embeddings.class_embedding", names);
        Assert.Contains("vision_model.encoder.layers.0.attn.qkv.weight", names);
        Assert.Contains("mlp1.0.weight", names);
        Assert.Contains("mlp1.3.bias", names);
        Assert.Contains("language_model.model.layers.1.self_attn.k_proj.bias", names);
        Assert.Contains("language_model.lm_head.weight", names);
    }

    [Fact]
    public void NormalisationMapsSignedPixelsThroughImageNetStatistics()
    {
        using var scope = NewDisposeScope();
        var x = full(1, 3, 1, 1, -1f);
        var y = ImageNetNormalize.FromSigned(x).data<float>().ToArray();
        Assert.Equal(-0.485 / 0.229, y[0], 5);
        Assert.Equal(-0.406 / 0.225, y[2], 5);
        var white = ImageNetNormalize.FromSigned(ones(1, 3, 1, 1)).data<float>().ToArray();
        Assert.Equal((1 - 0.456) / 0.224, white[1], 5);
    }
}
