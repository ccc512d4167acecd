using TorchSharp;
using Vgt.Models.DcAe;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Models.DcAe;

/// <summary>Each DC-AE block against our PyTorch reference (tools/fixtures/make_dcae_fixtures.py), fp32, rel err ≤ 1e-4.</summary>
public class DcAeBlockParityTests(ITestOutputHelper output)
{
    const double Tol = 1e-4;

    void Check(string what, Tensor actual, Tensor expected)
    {
        var err = DcAeFixture.RelErr(actual, expected);
        output.WriteLine($"{what}: rel err {err:E2}");
        Assert.True(err <= Tol, $"{what}: relative error {err:E3} > {Tol:E0}");
    }

    [Theory]
    [InlineData("resblock_rms_silu", "rms_norm", "silu")]
    [InlineData("resblock_bn_relu", "batch_norm", "relu")]
    public void ResBlockMatchesReference(string name, string norm, string act)
    {
        using var _ = no_grad();
        using var f = DcAeFixture.Load(name);
        using var block = f.Into(new ResBlock(8, norm, act));
        Check(name, block.forward(f["input"]), f["expected"]);
    }

    [Fact]
    public void GluMbConvMatchesReference()
    {
        using var _ = no_grad();
        using var f = DcAeFixture.Load("glumbconv");
        using var block = f.Into(new GluMbConv(8));
        Check("glumbconv", block.forward(f["input"]), f["expected"]);
    }

    // Head dim 32 (the real one), 2 heads, multiscale (5): 5×6 = 30 positions take the quadratic path, 6×6 = 36 the linear one.
    // Head dim 8, kernels (3, 5), batch 2: 2×4 = 8 positions (boundary, quadratic) and 3×5 = 15 (linear).
    [Theory]
    [InlineData("evit_hd32", 64, 32, new[] { 5 }, "quadratic", 30)]
    [InlineData("evit_hd32", 64, 32, new[] { 5 }, "linear", 36)]
    [InlineData("evit_hd8_ms35", 16, 8, new[] { 3, 5 }, "quadratic", 8)]
    [InlineData("evit_hd8_ms35", 16, 8, new[] { 3, 5 }, "linear", 15)]
    public void EfficientVitBlockMatchesReference(string name, int channels, int headDim, int[] scales, string path, int positions)
    {
        using var _ = no_grad();
        using var f = DcAeFixture.Load(name);
        using var block = f.Into(new EfficientVitBlock(channels, headDim, scales));
        var x = f[$"input.{path}"];
        Assert.Equal(positions, x.shape[2] * x.shape[3]);
        Assert.Equal(path == "linear", block.attn.UsesLinearAttention(positions));
        Check($"{name} {path} attn", block.attn.forward(x), f[$"expected.{path}.attn"]);
        Check($"{name} {path} block", block.forward(x), f[$"expected.{path}"]);
    }

    [Fact]
    public void EfficientVitBlockRunsInBf16WithTheLinearPathUpcast()
    {
        // bf16 weights and input (how VGT stores the AE): output stays bf16 and is close to the fp32 reference.
        using var _ = no_grad();
        using var f = DcAeFixture.Load("evit_hd32");
        using var block = f.Into(new EfficientVitBlock(64, 32, [5]));
        block.to(ScalarType.BFloat16);
        foreach (var path in new[] { "linear", "quadratic" })
        {
            var y = block.forward(f[$"input.{path}"].to_type(ScalarType.BFloat16));
            Assert.Equal(ScalarType.BFloat16, y.dtype);
            var err = DcAeFixture.RelErr(y.to_type(ScalarType.Float32), f[$"expected.{path}"]);
            output.WriteLine($"evit_hd32 {path} bf16 vs fp32 reference: rel err {err:E2}");
            Assert.True(err < 3e-2, $"bf16 {path}: {err}");
        }
    }

    [Theory]
    [InlineData("up_interp_16_8", 16, 8, true)]
    [InlineData("up_interp_8_8", 8, 8, true)]
    [InlineData("up_shuffle_16_8", 16, 8, false)]
    public void UpBlockMatchesReference(string name, int cin, int cout, bool interpolate)
    {
        using var _ = no_grad();
        using var f = DcAeFixture.Load(name);
        using var block = f.Into(new UpBlock(cin, cout, interpolate));
        var y = block.forward(f["input"]);
        Assert.Equal(new long[] { 2, cout, 6, 8 }, y.shape);
        Check(name, y, f["expected"]);
    }

    [Theory]
    [InlineData("down_conv_8_16", 8, 16, false)]
    [InlineData("down_unshuffle_8_16", 8, 16, true)]
    public void DownBlockMatchesReference(string name, int cin, int cout, bool unshuffle)
    {
        using var _ = no_grad();
        using var f = DcAeFixture.Load(name);
        using var block = f.Into(new DownBlock(cin, cout, unshuffle));
        var y = block.forward(f["input"]);
        Assert.Equal(new long[] { 2, cout, 3, 4 }, y.shape);
        Check(name, y, f["expected"]);
    }

    [Fact]
    public void UpBlockShortcutDuplicatesChannelsIntoPixels()
    {
        // 2 → 1 channel (repeats 2): the shortcut puts channel 0 in the top row of each 2×2 cell and channel 1 in the bottom row.
        using var _ = no_grad();
        using var block = new UpBlock(2, 1, interpolate: true);
        block.conv.weight!.zero_();
        block.conv.bias!.zero_();
        var x = tensor(new float[] { 1, 2 }, [1, 2, 1, 1]);
        Assert.Equal(new float[] { 1, 1, 2, 2 }, block.forward(x).data<float>().ToArray());
    }

    [Fact]
    public void ResizeHelperMatchesBilinearReference()
    {
        using var f = DcAeFixture.Load("resize");
        var y = DecodedImageResize.ToStride(f["input"], 1, 2);
        Assert.Equal(new long[] { 1, 3, 28, 56 }, y.shape);
        Check("resize 32×64 → 28×56", y, f["expected"]);
    }
}
