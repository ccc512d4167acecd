using TorchSharp;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Tests.Runtime;

public class TorchSmokeTests
{
    [Fact]
    public void MatmulMatchesHandComputedValues()
    {
        TorchRuntime.Initialise();
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        var b = tensor(new float[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void BackwardGivesAnalyticGradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, -2, 3 }, requires_grad: true);
        var y = (x * x * x).sum(); // dy/dx = 3x²
        y.backward();
        Assert.Equal(new float[] { 3, 12, 27 }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void CausalAttentionMatchesExplicitMask()
    {
        using var scope = NewDisposeScope();
        var gen = new VgtSeed(7).TorchGenerator("test");
        var q = randn(new long[] { 1, 2, 5, 8 }, generator: gen);
        var k = randn(new long[] { 1, 2, 5, 8 }, generator: gen);
        var v = randn(new long[] { 1, 2, 5, 8 }, generator: gen);
        var fused = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(8);
        var mask = ones(5, 5, dtype: ScalarType.Bool).tril();
        var manual = scores.masked_fill(mask.logical_not(), float.NegativeInfinity).softmax(-1).matmul(v);
        Assert.True(fused.allclose(manual, rtol: 1e-5, atol: 1e-6));
        // The first position can only see itself.
        Assert.True(fused[.., .., 0].allclose(v[.., .., 0], rtol: 1e-5, atol: 1e-6));
    }
}
