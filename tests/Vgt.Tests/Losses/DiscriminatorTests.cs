using TorchSharp;
using Vgt.Config;
using Vgt.Losses;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Vgt.Tests.Losses;

public class DiscriminatorTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(448, 5, 1, 4)]   // block_in at 448: 2 left, 2 right
    [InlineData(448, 4, 2, 2)]   // blur: 448 → 224
    [InlineData(45, 4, 2, 3)]    // ⌈45/2⌉ = 23: (22·2 + 4 − 45) = 3 → 1 left/top, 2 right/bottom
    [InlineData(37, 1, 1, 0)]
    [InlineData(8, 5, 1, 4)]
    public void SamePadMatchesTheTensorFlowRule(long i, long k, long s, long expected) =>
        Assert.Equal(expected, Conv2dSame.SamePad(i, k, s));

    [Fact]
    public void OddPaddingPutsTheSmallerHalfLeftAndTop()
    {
        var x = ones(1, 1, 3, 5);                          // H: pad 3 (1 top, 2 bottom); W: ⌈5/2⌉=3 → 4+4−5 = 3 (1 left, 2 right)
        var p = Conv2dSame.PadSame(x, 4, 2);
        Assert.Equal(new long[] { 1, 1, 6, 8 }, p.shape);
        Assert.Equal(0f, p[0, 0, 0, 3].item<float>());     // top row padded
        Assert.Equal(1f, p[0, 0, 1, 1].item<float>());     // first real pixel at (1,1)
        Assert.Equal(0f, p[0, 0, 4, 3].item<float>());     // two bottom rows
        Assert.Equal(0f, p[0, 0, 2, 6].item<float>());     // two right columns
        Assert.Equal(1f, p[0, 0, 3, 5].item<float>());
    }

    [Fact]
    public void BlurKernelIsTheNormalisedBinomialAndKeepsConstants()
    {
        var blur = new BlurBlock(BlurBlock.Taps(4));
        var k = blur.state_dict()["kernel"];
        Assert.Equal(new long[] { 1, 1, 4, 4 }, k.shape);
        Assert.Equal(9.0 / 64, k[0, 0, 1, 2].item<float>(), 7);
        Assert.Equal(1.0 / 64, k[0, 0, 0, 0].item<float>(), 7);
        var y = blur.forward(full(1, 2, 8, 8, 3f));
        Assert.Equal(new long[] { 1, 2, 4, 4 }, y.shape);
        Assert.Equal(3f, y[0, 1, 1, 1].item<float>(), 5);  // interior of a constant image is unchanged
    }

    [Fact]
    public void SmallConfigMatchesThePyTorchReference()
    {
        var f = LossFixtures.Load("disc_small");
        var d = new NLayerDiscriminator(new DiscriminatorConfig { HiddenChannels = 16, GroupNormGroups = 4, PoolSize = 4 });
        LossFixtures.LoadWeights(d, f, "w.");
        using var _ = no_grad();
        double e64 = LossFixtures.RelErr(d.forward(f["x64"]), f["y64"]);
        double eOdd = LossFixtures.RelErr(d.forward(f["x_odd"]), f["y_odd"]);
        output.WriteLine($"discriminator small: 64×64 {e64:E2}, 45×37 {eOdd:E2}");
        Assert.True(e64 < LossFixtures.Tolerance, $"64×64: {e64:E2}");
        Assert.True(eOdd < LossFixtures.Tolerance, $"45×37: {eOdd:E2}");
    }

    [Fact]
    public void ReferenceConfigHasTheReferenceNamesAndMatchesWithHashWeights()
    {
        var d = new NLayerDiscriminator(DiscriminatorConfig.Reference);
        LossFixtures.AssertSameNames(d, "disc_reference_hash");
        Assert.Contains("blocks.2.1.kernel", d.state_dict().Keys);
        HashWeights.Fill(d);
        var f = LossFixtures.Load("disc_reference_hash");
        using var _ = no_grad();
        var y = d.forward(f["x"]);
        Assert.Equal(new long[] { 2, 1, 16, 16 }, y.shape);
        double e = LossFixtures.RelErr(y, f["y"]);
        output.WriteLine($"discriminator reference (hash weights, 2×3×64×64): {e:E2}");
        Assert.True(e < LossFixtures.Tolerance, $"reference discriminator: {e:E2}");
    }

    [Fact]
    public void ShapesWorldPresetIsTheSameClassAtSixtyFourPixels()
    {
        var d = new NLayerDiscriminator(DiscriminatorConfig.ShapesWorld);
        using var _ = no_grad();
        Assert.Equal(new long[] { 3, 1, 4, 4 }, d.forward(rand(3, 3, 64, 64)).shape);
        Assert.Equal(new long[] { 32, 32, 3, 3 }, d.state_dict()["blocks.0.0.weight"].shape);
        Assert.Equal(new long[] { 128, 64, 3, 3 }, d.state_dict()["blocks.2.0.weight"].shape);
        Assert.Equal(new long[] { 128, 128, 1, 1 }, d.state_dict()["to_logits.0.weight"].shape);
    }

    [Fact]
    public void GroupNormStartsAtWeightOneBiasZero()
    {
        for (int r = 0; r < 3; r++)   // TorchSharp's nn.GroupNorm alone leaves these uninitialised
        {
            var sd = new NLayerDiscriminator(DiscriminatorConfig.ShapesWorld).state_dict();
            for (int i = 0; i < 3; i++)
            {
                Assert.True(sd[$"blocks.{i}.2.weight"].eq(1).all().item<bool>());
                Assert.True(sd[$"blocks.{i}.2.bias"].eq(0).all().item<bool>());
            }
        }
    }

    [Fact]
    public void GroupsThatDoNotDivideAWidthAreRejected()
    {
        var e = Assert.Throws<ConfigValidationException>(() => new DiscriminatorConfig { HiddenChannels = 24, GroupNormGroups = 32 }.Validate());
        Assert.Equal("group_norm_groups", e.Field);
        Assert.Throws<ArgumentException>(() => new NLayerDiscriminator(DiscriminatorConfig.ShapesWorld).forward(zeros(1, 1, 64, 64)));
    }
}
