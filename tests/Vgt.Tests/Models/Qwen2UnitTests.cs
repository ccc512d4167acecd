using TorchSharp;
using Vgt.Models.Qwen2;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

public class Qwen2UnitTests
{
    private static Qwen2Config Tiny(bool tied = false) => new(VocabSize: 11, HiddenSize: 16, IntermediateSize: 24, NumHiddenLayers: 2,
        NumAttentionHeads: 4, NumKeyValueHeads: 2, RmsNormEps: 1e-6, RopeTheta: 10000, MaxPositionEmbeddings: 64, TieWordEmbeddings: tied);

    [Fact]
    public void MaskIsCausalByIndexAndHidesPaddingKeys()
    {
        using var scope = NewDisposeScope();
        var keyMask = tensor(new[] { true, false, true, true, true }, [1, 5]);
        var m = AttentionMask.CausalWithPadding(keyMask, 1, 2, 3, CPU);     // 3 cached + 2 new
        Assert.Equal(new long[] { 1, 1, 2, 5 }, m.shape);
        Assert.Equal(new[] { true, false, true, true, false }, m[0, 0, 0].data<bool>().ToArray());
        Assert.Equal(new[] { true, false, true, true, true }, m[0, 0, 1].data<bool>().ToArray());
    }

    [Fact]
    public void FullyMaskedRowsStayFinite()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var lm = new Qwen2Model(Tiny(), generator: new Generator(3));
        var mask = tensor(new[] { false, true, true }, [1, 3]);              // query 0 can see nothing
        var h = lm.Forward(randn(1, 3, 16), attentionMask: mask);
        Assert.False(h.isnan().any().item<bool>());
        var m = AttentionMask.CausalWithPadding(mask, 1, 3, 0, CPU);
        Assert.Equal(new[] { true, true, true }, m[0, 0, 0].data<bool>().ToArray());
    }

    [Fact]
    public void RopeIsIdentityAtZeroAndDependsOnlyOnRelativePosition()
    {
        using var scope = NewDisposeScope();
        var rope = new RotaryEmbedding(8, 10000);
        var gen = new Generator(5);
        var q = randn([1, 1, 1, 8], generator: gen);
        var k = randn([1, 1, 1, 8], generator: gen);
        Tensor Rot(Tensor x, long p)
        {
            var (c, s) = rope.forward(tensor(new[] { p }, [1, 1]));
            return RotaryEmbedding.Apply(x, c, s);
        }
        Assert.True(Rot(q, 0).allclose(q));
        var a = (Rot(q, 7) * Rot(k, 3)).sum().item<float>();
        var b = (Rot(q, 14) * Rot(k, 10)).sum().item<float>();
        Assert.Equal(a, b, 4);
        // rotate-half pairs dimension j with j + hd/2: position 1, lowest frequency pair (0, 4) rotates by exactly 1 rad
        var e0 = zeros(1, 1, 1, 8);
        e0[0, 0, 0, 0] = tensor(1f);
        var r = Rot(e0, 1).data<float>().ToArray();
        Assert.Equal(Math.Cos(1), r[0], 5);
        Assert.Equal(Math.Sin(1), r[4], 5);
    }

    [Fact]
    public void TiedHeadSharesTheEmbeddingTensor()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var sd = new Qwen2ForCausalLM(Tiny(tied: true)).state_dict();
        Assert.Contains("lm_head.weight", sd.Keys);
        sd["model.embed_tokens.weight"].fill_(3f);
        Assert.Equal(3f, sd["lm_head.weight"].min().item<float>());
        var untied = new Qwen2ForCausalLM(Tiny(tied: false)).state_dict();
        untied["model.embed_tokens.weight"].fill_(3f);
        Assert.True(untied["lm_head.weight"].abs().max().item<float>() < 1f);
    }

    [Fact]
    public void StateDictHasCheckpointNamesAndNoRopeBuffer()
    {
        using var scope = NewDisposeScope();
        var names = new Qwen2ForCausalLM(Tiny()).state_dict().Keys.ToHashSet();
        string[] layer1 = ["self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight", "self_attn.k_proj.bias",
            "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
            "mlp.down_proj.weight", "input_layernorm.weight", "post_attention_layernorm.weight"];
        foreach (var n in layer1) Assert.Contains("model.layers.1." + n, names);
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.Contains("lm_head.weight", names);
        Assert.Equal(2 * 12 + 3, names.Count);   // no o_proj bias, no inv_freq
    }

    [Fact]
    public void InitialisationFollowsQwen2InitWeights()
    {
        using var scope = NewDisposeScope();
        var config = Tiny() with { HiddenSize = 64, IntermediateSize = 256, VocabSize = 512 };
        var sd = new Qwen2ForCausalLM(config, generator: new Generator(11)).state_dict();
        var w = sd["model.layers.0.mlp.up_proj.weight"];
        Assert.Equal(0.02, w.std().item<float>(), 2);
        Assert.Equal(0.0, w.mean().item<float>(), 2);
        Assert.Equal(0.02, sd["model.embed_tokens.weight"].std().item<float>(), 2);
        Assert.Equal(0f, sd["model.layers.0.self_attn.k_proj.bias"].abs().max().item<float>());
        Assert.Equal(1f, sd["model.norm.weight"].min().item<float>());
        // the same generator seed gives the same weights
        var again = new Qwen2ForCausalLM(config, generator: new Generator(11)).state_dict();
        Assert.True(again["model.layers.1.self_attn.q_proj.weight"].equal(sd["model.layers.1.self_attn.q_proj.weight"]).all().item<bool>());
    }

    [Fact]
    public void BadInputsAreRefusedWithClearMessages()
    {
        using var scope = NewDisposeScope();
        var lm = new Qwen2Model(Tiny());
        var e1 = Assert.Throws<ArgumentException>(() => lm.Forward(zeros(1, 3, 16), attentionMask: ones(1, 4, dtype: ScalarType.Bool)));
        Assert.Contains("past+T=3", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => lm.Forward(zeros(1, 3, 15)));
        Assert.Contains("[B,T,16]", e2.Message);
        using var cache = lm.NewCache();
        lm.Forward(zeros(2, 3, 16), cache: cache);
        var e3 = Assert.Throws<ArgumentException>(() => lm.Forward(zeros(1, 1, 16), cache: cache));
        Assert.Contains("cache holds batch 2", e3.Message);
        var scaled = new Qwen2Model(Tiny() with { RopeScaling = new RopeScalingConfig("dynamic", 2) });
        var e4 = Assert.Throws<NotSupportedException>(() => scaled.Forward(zeros(1, 1, 16), positionIds: tensor(new long[] { 64 }, [1, 1])));
        Assert.Contains("max_position_embeddings (64)", e4.Message);
    }

    [Fact]
    public void KvCacheHoldsEveryAppendAndGrowsByDoubling()
    {
        using var scope = NewDisposeScope();
        using var cache = new KvCache(2);
        var all = new List<Tensor>();
        var g = new Generator(1);
        long[] capacities = new long[6];
        for (int i = 0; i < 6; i++)
        {
            var k = randn(new long[] { 2, 3, i + 1, 4 }, generator: g);
            all.Add(k);
            var (keys, values) = cache.Append(0, k, k * 2);
            cache.Append(1, k, k);
            var expected = cat(all.ToArray(), 2);
            Assert.True(keys.equal(expected).all().item<bool>());
            Assert.True(values.equal(expected * 2).all().item<bool>());
            capacities[i] = cache.Capacity;
        }
        Assert.Equal(21, cache.Length);                                         // 1 + 2 + … + 6
        Assert.Equal(new long[] { 1, 3, 6, 12, 24, 24 }, capacities);           // max(needed, 2 × capacity)
        var e = Assert.Throws<ArgumentException>(() => cache.Append(0, zeros(1, 3, 1, 4), zeros(1, 3, 1, 4)));
        Assert.Contains("do not fit the cache [2,3,21,4]", e.Message);
        Assert.Throws<ArgumentException>(() => cache.Append(0, zeros(2, 3, 1, 4, dtype: ScalarType.Float64), zeros(2, 3, 1, 4, dtype: ScalarType.Float64)));
    }

    [Fact]
    public void TokenIdsOutsideTheTableAreRefusedNamingTheRange()
    {
        using var scope = NewDisposeScope();
        var table = new TokenEmbedding(11, 4, 0.02, generator: new Generator(2));
        Assert.Equal(new long[] { 2, 3, 4 }, table.forward(tensor(new long[] { 0, 5, 10, 1, 2, 3 }, [2, 3])).shape);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => table.forward(tensor(new long[] { 3, 11 })));
        Assert.Contains("[0, 11), got [3, 11]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => table.forward(tensor(new[] { -1 })));
    }
}
