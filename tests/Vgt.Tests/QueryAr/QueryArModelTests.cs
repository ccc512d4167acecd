using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Models.FlowHead;
using Vgt.Models.QueryAr;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Tests.QueryAr;

public sealed class QueryArModelTests
{
    private static QueryArConfig Tiny(int d = 32) => new()
    {
        Llm = new Qwen2Config(VocabSize: 1024, HiddenSize: d, IntermediateSize: 48, NumHiddenLayers: 1, NumAttentionHeads: 4,
            NumKeyValueHeads: 2, RmsNormEps: 1e-6, RopeTheta: 10000, MaxPositionEmbeddings: 512, TieWordEmbeddings: false),
        LatentChannels = 8,
        MetaqueryMaxH = 6,
        MetaqueryMaxW = 7,
        Head = new FlowHeadConfig { InputDim = 8, CondDim = d, Width = 16, Depth = 1, FreqDim = 16 },
    };

    [Fact]
    public void StateDictNamesAreTheCheckpointNames()
    {
        var names = new QueryArModel(QueryArFixture.Config()).state_dict().Keys.ToHashSet();
        using var ck = CheckpointReader.Open(QueryArFixture.PathOf("model.safetensors"));
        Assert.Equal(ck.Names.ToHashSet(), names);
        Assert.Contains("lmm.language_model.model.layers.1.self_attn.q_proj.bias", names);
        Assert.Contains("adaptive_metaquery.pos_encoding.grid_embed", names);
        Assert.Contains("image_head.net.final_layer.linear.weight", names);
        Assert.DoesNotContain("lmm.language_model.lm_head.weight", names);
    }

    [Fact]
    public void ProjectorsAreInitialisedAsTheReference()
    {
        var config = Tiny(256) with { Head = Tiny(256).Head with { CondDim = 256 } };
        var model = new QueryArModel(config, new TorchSharp.torch.Generator(7));
        var sd = model.state_dict();
        Assert.Equal(0.02, sd["image_out_projector.weight"].std().item<float>(), 0.002);
        Assert.Equal(0.02, sd["image_in_projector.weight"].std().item<float>(), 0.004);
        Assert.Equal(0f, sd["image_in_projector.bias"].abs().max().item<float>());
        Assert.Equal(0f, sd["image_out_projector.bias"].abs().max().item<float>());
        Assert.Equal(1 / 16.0, sd["adaptive_metaquery.max_metaquery"].std().item<float>(), 0.003);   // N(0, 1/√D)
        var again = new QueryArModel(config, new TorchSharp.torch.Generator(7)).state_dict();
        Assert.True(again["image_out_projector.weight"].equal(sd["image_out_projector.weight"]).all().item<bool>());
    }

    [Fact]
    public void ConfigRoundTripsAndRejectsMismatches()
    {
        var config = QueryArFixture.Config();
        var back = ConfigJson.Deserialize<QueryArConfig>(ConfigJson.Serialize(config));
        Assert.Equal(ConfigJson.Serialize(config), ConfigJson.Serialize(back));
        Assert.Contains("\"metaquery_max_w\": 7", ConfigJson.Serialize(config));

        var e = Assert.Throws<ConfigValidationException>(() => (config with { LatentChannels = 4 }).Validate());
        Assert.Equal("head.input_dim", e.Field);
        e = Assert.Throws<ConfigValidationException>(() => (config with { Head = config.Head with { CondDim = 16 } }).Validate());
        Assert.Equal("head.cond_dim", e.Field);
        e = Assert.Throws<ConfigValidationException>(() => (config with { Head = config.Head with { Repa = null } }).Validate());
        Assert.Equal("repa_loss_weight", e.Field);
        e = Assert.Throws<ConfigValidationException>(() => (config with { Prompts = new PromptTemplates { Generation = "no slot" } }).Validate());
        Assert.Equal("prompts.generation", e.Field);
        QueryArConfig.InternVl3_0_6B.Validate();
        QueryArConfig.InternVl3_1_6B.Validate();
    }

    [Fact]
    public void PromptTemplatesAreExact()
    {
        var p = new PromptTemplates();
        Assert.Equal("<|im_start|>user\nGenerate an image: a cat<|im_end|>\n<|im_start|>assistant\n", p.Conditional("  a cat \n"));
        Assert.Equal("<|im_start|>user\nGenerate an image.<|im_end|>\n<|im_start|>assistant\n", p.Unconditional());
        Assert.Equal("<|im_end|>\n<|im_start|>assistant\n", p.InstructionSuffix);
        Assert.Equal("<img>", p.ImageStart);
    }

    [Fact]
    public void ImageStartEmbeddingUsesEveryIdInOrder()
    {
        // The scope keeps every temporary reachable: without it the GC may finalize a tensor wrapper whose native
        // tensor is still being read by a call in flight (seen as a rare flaky failure here).
        using var scope = NewDisposeScope();
        var model = new QueryArModel(Tiny());
        var tok = QueryArFixture.Tokenizer();
        var single = tok.Encode("<img>");
        Assert.Equal(new[] { 1021 }, single);                         // the added token
        var several = tok.Encode("<image>");                         // not an added token: several BPE ids
        Assert.True(several.Length > 1);
        var e = model.ImageStartEmbedding(several, 3);               // [3, n, D]
        Assert.Equal(new long[] { 3, several.Length, 32 }, e.shape);
        var table = model.state_dict()["lmm.language_model.model.embed_tokens.weight"];
        for (int i = 0; i < several.Length; i++)
            Assert.True(e[2, i].equal(table[several[i]]).all().item<bool>());
        Assert.Throws<ArgumentException>(() => model.ImageStartEmbedding([], 1));
    }

    [Fact]
    public void QueryTokensUseTheCentreCropOfTheFixture()
    {
        var model = QueryArFixture.Model();
        var (t, _) = QueryArFixture.Read("loss.safetensors");
        var (q, pos) = model.QueryTokens(2, 3);                      // 2×3 crop of a 6×7 grid: rows 2–3, cols 2–4
        Assert.True(QueryArFixture.RelErr(q, t["out.queries"]) < 1e-6);
        Assert.True(QueryArFixture.RelErr(pos, t["out.pos"]) < 1e-6);
        var grid = model.state_dict()["adaptive_metaquery.pos_encoding.grid_embed"];
        Assert.True(pos[0, 4].equal(grid[0, .., 3, 3]).all().item<bool>()); // token 4 = cell (1, 1) = grid (3, 3)
    }

    [Fact]
    public void ExplicitMaskForwardEqualsTheDecoderForward()
    {
        var model = QueryArFixture.Model();
        var g = new TorchSharp.torch.Generator(3);
        var embeds = randn(new long[] { 2, 7, 32 }, generator: g);
        var mask = tensor(new[] { true, true, true, true, true, true, true, true, true, false, false, true, true, true }, [2, 7]);
        var positions = (mask.to(int64).cumsum(1) - 1).clamp_min(0);
        var expected = model.Decoder.Forward(embeds, positions, mask);
        var allowed = AttentionMask.CausalWithPadding(mask, 2, 7, 0, CPU);
        using var cache = model.Decoder.NewCache();
        var actual = model.Decoder.ForwardAllowed(embeds, positions, allowed, cache);
        Assert.True(QueryArFixture.RelErr(actual, expected) < 1e-6);
        Assert.Equal(7, cache.Length);
    }
}
