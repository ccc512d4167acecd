using TorchSharp;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Tests.Runtime;

/// <summary>libtorch's NNPACK path is off once torch is initialised, and convolutions still run (libtorch's own kernels).</summary>
public class NnpackSwitchTests
{
    [Fact]
    public void InitialiseTurnsNnpackOffAndBatchedConvolutionsStillMatchTheUnbatchedOnes()
    {
        TorchRuntime.Initialise();
        Assert.False(NnpackSwitch.Get());                              // null would mean the symbols were not found

        // a batch of 16 is where libtorch would pick NNPACK; each image must equal its own batch-of-one result
        using var scope = NewDisposeScope();
        var gen = new Generator(seed: 5);
        var x = randn(new long[] { 16, 3, 12, 12 }, generator: gen);
        var w = randn(new long[] { 8, 3, 3, 3 }, generator: gen);
        var batched = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
        var single = nn.functional.conv2d(x[5].unsqueeze(0), w, padding: new long[] { 1, 1 });
        Assert.True(batched[5].allclose(single[0], rtol: 1e-5, atol: 1e-5));
    }
}
