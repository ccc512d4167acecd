using TorchSharp;
using Vgt.Config;
using Vgt.Models.InternVit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

public class InternVitParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("internvit_ln.safetensors")]
    [InlineData("internvit_rms_qk.safetensors")]
    public void MatchesReference(string fixtureName)
    {
        using var fx = VlmFixture.Load(fixtureName);
        using var scope = NewDisposeScope();
        var config = ConfigJson.Deserialize<InternVitConfig>(fx.Metadata["config"], fixtureName);
        var model = new InternVisionModel(config);
        fx.LoadInto(model);
        model.eval();
        using var _ = no_grad();

        void Check(string what, Tensor actual, string expected)
        {
            var err = VlmFixture.RelErr(actual, fx[expected]);
            output.WriteLine($"{fixtureName} {what}: rel err {err:E2}");
            Assert.True(err <= Tolerance, $"{what}: rel err {err:E2} > {Tolerance:E0}");
        }

        Check("embeddings 16x16 (trained grid)", model.Embeddings.forward(fx["in.pixels16"]), "out.embeddings16");
        Check("embeddings 24x24 (bicubic 4x4→6x6)", model.Embeddings.forward(fx["in.pixels24"]), "out.embeddings24");
        Check("embeddings 12x20 (bicubic 4x4→3x5)", model.Embeddings.forward(fx["in.pixels_rect"]), "out.embeddings_rect");
        Check("layer 0", model.Encoder[0].forward(fx["in.layer0"]), "out.layer0");
        Check("model 24x24", model.forward(fx["in.pixels24"]), "out.last_hidden24");
    }

    [Fact]
    public void PositionTableIsUntouchedOnTheTrainedGridAndResizedElsewhere()
    {
        using var scope = NewDisposeScope();
        var config = InternVitConfig.InternViT300M_448px_V2_5 with { HiddenSize = 8, NumAttentionHeads = 2, IntermediateSize = 8, NumHiddenLayers = 1, ImageSize = 56 };
        var emb = new InternVitEmbeddings(config, generator: new Generator(1));
        var table = emb.PositionTable(4, 4);
        Assert.Equal(new long[] { 1, 17, 8 }, table.shape);
        Assert.True(table.equal(emb.state_dict()["position_embedding"]).all().item<bool>());
        var resized = emb.PositionTable(6, 3);
        Assert.Equal(new long[] { 1, 19, 8 }, resized.shape);
        // the class-token row is never interpolated
        Assert.True(resized[0, 0].equal(table[0, 0]).all().item<bool>());
    }

    [Fact]
    public void RejectsImagesThatAreNotWholePatches()
    {
        using var scope = NewDisposeScope();
        var config = InternVitConfig.InternViT300M_448px_V2_5 with { HiddenSize = 8, NumAttentionHeads = 2, IntermediateSize = 8, NumHiddenLayers = 1, ImageSize = 56 };
        var model = new InternVisionModel(config);
        var e = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 3, 30, 28)));
        Assert.Contains("multiples of the patch size 14", e.Message);
        Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 1, 28, 28)));
    }

    [Fact]
    public void StateDictHasCheckpointNames()
    {
        using var scope = NewDisposeScope();
        var config = new InternVitConfig(8, 16, 2, 2, 2, 4, QkvBias: true, QkNormalization: true, InternVitNormType.LayerNorm, 1e-6);
        var names = new InternVisionModel(config).state_dict().Keys.ToHashSet();
        string[] expected =
        [
            "embeddings.class_embedding", "embeddings.patch_embedding.weight", "embeddings.patch_embedding.bias", "embeddings.position_embedding",
            "encoder.layers.1.attn.qkv.weight", "encoder.layers.1.attn.qkv.bias", "encoder.layers.1.attn.proj.weight", "encoder.layers.1.attn.proj.bias",
            "encoder.layers.1.attn.q_norm.weight", "encoder.layers.1.attn.k_norm.weight",
            "encoder.layers.1.mlp.fc1.weight", "encoder.layers.1.mlp.fc1.bias", "encoder.layers.1.mlp.fc2.weight", "encoder.layers.1.mlp.fc2.bias",
            "encoder.layers.1.norm1.weight", "encoder.layers.1.norm1.bias", "encoder.layers.1.norm2.weight", "encoder.layers.1.norm2.bias",
            "encoder.layers.1.ls1", "encoder.layers.1.ls2",
        ];
        foreach (var n in expected) Assert.Contains(n, names);
        Assert.Equal(4 + 2 * 16, names.Count);
    }
}
