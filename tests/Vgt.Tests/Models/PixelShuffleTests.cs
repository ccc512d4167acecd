using TorchSharp;
using Vgt.Models.InternVl;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Models;

public class PixelShuffleTests(ITestOutputHelper output)
{
    /// <summary>Entries encode (row, col, ch) as 100·row + 10·col + ch.</summary>
    private static Tensor Coded(long rows, long cols, long channels)
    {
        var values = new float[rows * cols * channels];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                for (int ch = 0; ch < channels; ch++)
                    values[(r * cols + c) * channels + ch] = 100 * r + 10 * c + ch;
        return tensor(values, [1, rows, cols, channels]);
    }

    [Fact]
    public void AppendixB1_CellZeroListsTheTwoByTwoBlockInRowMajorOrder()
    {
        using var scope = NewDisposeScope();
        var y = PixelShuffle.Apply(Coded(4, 4, 2), 0.5);
        Assert.Equal(new long[] { 1, 2, 2, 8 }, y.shape);
        // (0,0,·), (0,1,·), (1,0,·), (1,1,·)
        Assert.Equal(new float[] { 0, 1, 10, 11, 100, 101, 110, 111 }, y[0, 0, 0].data<float>().ToArray());
        // cell (0,1) holds input cells (0,2), (0,3), (1,2), (1,3); cell (1,0) holds (2,0), (2,1), (3,0), (3,1)
        Assert.Equal(new float[] { 20, 21, 30, 31, 120, 121, 130, 131 }, y[0, 0, 1].data<float>().ToArray());
        Assert.Equal(new float[] { 200, 201, 210, 211, 300, 301, 310, 311 }, y[0, 1, 0].data<float>().ToArray());
    }

    [Fact]
    public void RectangularGridKeepsRowAndColumnOrder()
    {
        using var scope = NewDisposeScope();
        var y = PixelShuffle.Apply(Coded(2, 6, 1), 0.5);     // rows 2, cols 6 → 1 × 3
        Assert.Equal(new long[] { 1, 1, 3, 4 }, y.shape);
        Assert.Equal(new float[] { 40, 50, 140, 150 }, y[0, 0, 2].data<float>().ToArray());
    }

    [Fact]
    public void VersionOneLeavesTheGridTransposed()
    {
        using var scope = NewDisposeScope();
        var x = Coded(4, 6, 2);
        var v1 = PixelShuffle.Apply(x, 0.5, PixelShuffleVersion.V1);
        var v2 = PixelShuffle.Apply(x, 0.5, PixelShuffleVersion.V2);
        Assert.Equal(new long[] { 1, 3, 2, 8 }, v1.shape);
        Assert.True(v1.permute(0, 2, 1, 3).equal(v2).all().item<bool>());
    }

    [Fact]
    public void RejectsGridsTheFactorDoesNotDivide()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => PixelShuffle.Apply(zeros(1, 3, 4, 2), 0.5));
        Assert.Contains("not divisible by the shuffle factor 2", e.Message);
        Assert.Throws<ArgumentException>(() => PixelShuffle.Apply(zeros(1, 4, 4, 2), 0.3));
        Assert.Throws<ArgumentException>(() => PixelShuffle.Apply(zeros(4, 4, 2), 0.5));
    }

    [Fact]
    public void ShuffleAndMlp1MatchReference()
    {
        using var fx = VlmFixture.Load("pixel_shuffle_mlp1.safetensors");
        using var scope = NewDisposeScope();
        var shuffled = PixelShuffle.Apply(fx["in.x"], 0.5);
        Assert.True(shuffled.equal(fx["out.shuffled"]).all().item<bool>(), "pixel shuffle is a pure permutation and must match exactly");
        var mlp1 = new VisionProjector(32, 16, 1e-5);
        fx.LoadInto(mlp1, "mlp1.");
        using var _ = no_grad();
        var err = VlmFixture.RelErr(mlp1.forward(shuffled.reshape(2, 6, 32)), fx["out.projected"]);
        output.WriteLine($"mlp1: rel err {err:E2}");
        Assert.True(err <= 1e-4, $"mlp1 rel err {err:E2}");
    }

    [Fact]
    public void Mlp1StateDictUsesSequentialIndices()
    {
        using var scope = NewDisposeScope();
        var names = new VisionProjector(8, 4).state_dict().Keys.Order().ToArray();
        Assert.Equal(new[] { "0.bias", "0.weight", "1.bias", "1.weight", "3.bias", "3.weight" }, names);
    }
}
