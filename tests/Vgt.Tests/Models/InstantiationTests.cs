using System.Diagnostics;
using TorchSharp;
using Vgt.Models.InternVit;
using Vgt.Models.InternVl;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

/// <summary>
/// The real InternVL3-1B configuration: the whole model is built on the meta device (shapes only, no memory). Real
/// random weights are checked at the real widths with one vision layer: the full 24-layer tower (304 M parameters,
/// 1.2 GB fp32) took 27 s to initialise on the shared 2-core machine, too slow for the suite.
/// </summary>
public class InstantiationTests(ITestOutputHelper output)
{
    private static readonly Device Meta = new(DeviceType.META);

    [Fact]
    public void InternVl3_1BBuildsOnTheMetaDeviceWithCheckpointNamesAndShapes()
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var model = new InternVlModel(InternVlConfig.InternVl3_1B, Meta);
        output.WriteLine($"InternVL3-1B on the meta device: {clock.Elapsed.TotalSeconds:F1} s");
        var sd = model.state_dict();
        long total = sd.Values.Sum(t => t.numel());
        Assert.Equal(938_193_024, total);
        Assert.Equal(340, sd.Keys.Count(k => k.StartsWith("vision_model.", StringComparison.Ordinal)));
        Assert.Equal(6, sd.Keys.Count(k => k.StartsWith("mlp1.", StringComparison.Ordinal)));
        void Shape(string key, params long[] shape) => Assert.Equal(shape, sd[key].shape);
        Shape("vision_model.embeddings.class_embedding", 1, 1, 1024);
        Shape("vision_model.embeddings.position_embedding", 1, 1025, 1024);
        Shape("vision_model.embeddings.patch_embedding.weight", 1024, 3, 14, 14);
        Shape("vision_model.encoder.layers.23.attn.qkv.weight", 3072, 1024);
        Shape("vision_model.encoder.layers.23.ls2", 1024);
        Shape("mlp1.0.weight", 4096);
        Shape("mlp1.1.weight", 896, 4096);
        Shape("mlp1.3.weight", 896, 896);
        Shape("language_model.model.embed_tokens.weight", 151674, 896);
        Shape("language_model.model.layers.23.self_attn.q_proj.weight", 896, 896);
        Shape("language_model.model.layers.23.self_attn.k_proj.bias", 128);
        Shape("language_model.model.layers.23.mlp.down_proj.weight", 896, 4864);
        Shape("language_model.lm_head.weight", 151674, 896);
        Assert.DoesNotContain("language_model.model.layers.0.self_attn.o_proj.bias", sd.Keys);
    }

    [Fact]
    public void InternVl3_1BVisionWidthsBuildWithRandomWeights()
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var config = InternVitConfig.InternViT300M_448px_V2_5 with { NumHiddenLayers = 1 };
        var vision = new InternVisionModel(config, generator: new Generator(2024));
        output.WriteLine($"InternViT-300M widths, 1 layer, random init: {clock.Elapsed.TotalSeconds:F1} s");
        var sd = vision.state_dict();
        Assert.Equal(1_653_760 + 12_598_272, sd.Values.Sum(t => t.numel()));   // embeddings + one layer (backbones.md §6.1)
        Assert.Equal(0.1f, sd["encoder.layers.0.ls1"].max().item<float>());
        // PyTorch-default Linear init: U(±1/√fan_in)
        var qkv = sd["encoder.layers.0.attn.qkv.weight"];
        Assert.True(qkv.abs().max().item<float>() <= 1 / 32f);
        Assert.Equal(1 / 32.0 / Math.Sqrt(3), qkv.std().item<float>(), 3);
        Assert.Equal(1.0, sd["embeddings.position_embedding"].std().item<float>(), 1);
        // the same seed gives the same weights
        var again = new InternVisionModel(config with { ImageSize = 28 }, generator: new Generator(2024)).state_dict();
        Assert.True(again["embeddings.class_embedding"].equal(sd["embeddings.class_embedding"]).all().item<bool>());
    }
}
