using Vgt.Models.QueryAr;
using Vgt.Runtime;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = Vgt.Tests.FlowHead.FlowHeadFixtures;

namespace Vgt.Tests.FlowHead;

public class QueryArBlocksTests(ITestOutputHelper output)
{
    [Fact]
    public void CentreCropOf16In64TakesRowsAndColumns24To39()
    {
        using var scope = NewDisposeScope();
        var amq = new AdaptiveMetaQuery(2, 64, 64);
        // Encode the grid cell in the values: channel 0 = row·100 + col, channel 1 = −(row·100 + col).
        var code = (arange(64).unsqueeze(1) * 100 + arange(64).unsqueeze(0)).to(float32); // [64, 64]
        using (no_grad())
        {
            var sd = amq.state_dict();
            sd["max_metaquery"].copy_(stack(new[] { code, -code }).unsqueeze(0));
            sd["pos_encoding.grid_embed"].copy_(stack(new[] { code + 0.5f, code }).unsqueeze(0));
        }
        var (mq, pos) = amq.forward(16, 16);
        Assert.Equal(new long[] { 1, 256, 2 }, mq.shape);
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++)
            {
                Assert.Equal((24 + i) * 100 + 24 + j, mq[0, i * 16 + j, 0].item<float>());
                Assert.Equal((24 + i) * 100 + 24 + j + 0.5f, pos[0, i * 16 + j, 0].item<float>());
            }
        Assert.Equal(-(24 * 100 + 24), mq[0, 0, 1].item<float>());
        Assert.Equal(39 * 100 + 39, mq[0, 255, 0].item<float>());
    }

    [Fact]
    public void CropMatchesReferenceFixture()
    {
        using var scope = NewDisposeScope();
        var fx = F.Load("queryar_blocks");
        var amq = new AdaptiveMetaQuery(5, 9, 8);
        var (missing, unexpected) = amq.load_state_dict(new Dictionary<string, Tensor>
        {
            ["max_metaquery"] = fx["adaptive_metaquery.max_metaquery"],
            ["pos_encoding.grid_embed"] = fx["adaptive_metaquery.pos_encoding.grid_embed"],
        }, strict: false);
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        foreach (var (h, w) in new[] { (4, 3), (9, 8), (1, 1), (5, 6) })
        {
            var (mq, pos) = amq.forward(h, w);
            Assert.True(F.Identical(mq, fx[$"out.mq_{h}x{w}"]), $"metaquery {h}x{w}");
            Assert.True(F.Identical(pos, fx[$"out.pos_{h}x{w}"]), $"pos {h}x{w}");
        }
        output.WriteLine("parity metaquery crop: exact (4 crop sizes)");
    }

    [Fact]
    public void InitialisationAndNames()
    {
        using var scope = NewDisposeScope();
        var amq = new AdaptiveMetaQuery(256, 64, 64, new VgtSeed(1).TorchGenerator("init"));
        var sd = amq.state_dict();
        Assert.Equal(new[] { "max_metaquery", "pos_encoding.grid_embed" }, sd.Keys.Order());
        Assert.Equal(new long[] { 1, 256, 64, 64 }, sd["max_metaquery"].shape);
        Assert.Equal(new long[] { 1, 256, 64, 64 }, sd["pos_encoding.grid_embed"].shape);
        Assert.InRange(sd["max_metaquery"].std().item<float>(), 0.99 / 16, 1.01 / 16); // 1/√D
        Assert.InRange(sd["pos_encoding.grid_embed"].std().item<float>(), 0.0198, 0.0202);
        Assert.InRange(sd["pos_encoding.grid_embed"].mean().item<float>(), -1e-4, 1e-4);
        var again = new AdaptiveMetaQuery(256, 64, 64, new VgtSeed(1).TorchGenerator("init")).state_dict();
        Assert.True(F.Identical(again["pos_encoding.grid_embed"], sd["pos_encoding.grid_embed"]));
        Assert.True(F.Identical(again["max_metaquery"], sd["max_metaquery"]));
    }

    [Fact]
    public void TooLargeGridNamesTheLimit()
    {
        using var scope = NewDisposeScope();
        var amq = new AdaptiveMetaQuery(4, 64, 32);
        Assert.Contains("[1, 64]", Assert.Throws<ArgumentOutOfRangeException>(() => amq.forward(65, 16)).Message);
        Assert.Contains("[1, 32]", Assert.Throws<ArgumentOutOfRangeException>(() => amq.forward(16, 33)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => amq.forward(0, 16));
    }

    [Fact]
    public void PatchifyMatchesReferenceAndInverts()
    {
        using var scope = NewDisposeScope();
        var fx = F.Load("queryar_blocks");
        var z = fx["in.z"]; // [2, 3, 6, 4]
        foreach (var p in new[] { 1, 2 })
        {
            var x = LatentPatchify.Patchify(z, p);
            Assert.True(F.Identical(x, fx[$"out.patch{p}"]), $"patchify p={p}");
            Assert.True(F.Identical(LatentPatchify.Unpatchify(x, 6 / p, 4 / p, p), z), $"unpatchify p={p}");
        }
        // p = 1: token i·w + j is the channel vector at (i, j).
        var x1 = LatentPatchify.Patchify(z, 1);
        Assert.True(F.Identical(x1[1, 2 * 4 + 3], z[1, .., 2, 3]));
        // p = 2: features ordered (c, pi, pj): token (1, 0), feature c·4 + pi·2 + pj.
        var x2 = LatentPatchify.Patchify(z, 2);
        Assert.Equal(z[0, 2, 3, 1].item<float>(), x2[0, 1 * 2 + 0, 2 * 4 + 1 * 2 + 1].item<float>());
        Assert.Throws<ArgumentException>(() => LatentPatchify.Patchify(zeros(1, 3, 5, 4), 2));
        Assert.Contains("does not match L = 6", Assert.Throws<ArgumentException>(() => LatentPatchify.Unpatchify(x2, 2, 2, 2)).Message);
    }
}
