using Vgt.Runtime;
using Vgt.Sampling;

namespace Vgt.Tests.FlowHead;

public class GenerationScheduleTests
{
    [Theory]
    [InlineData(256, 16, new[] { 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16 })]
    [InlineData(81, 16, new[] { 17, 16, 16, 16, 16 })]
    [InlineData(10, 3, new[] { 4, 3, 3 })]
    [InlineData(7, 7, new[] { 7 })]
    [InlineData(5, 4, new[] { 5 })]
    public void GroupSizesFollowTheReference(int tokens, int k, int[] sizes)
        => Assert.Equal(sizes, GenerationSchedule.GroupSizes(tokens, k));

    [Theory]
    [InlineData(16, 4, new[] { 2, 3, 5, 6 })]
    [InlineData(16, 8, new[] { 5, 11 })]
    [InlineData(16, 16, new[] { 16 })]
    [InlineData(81, 16, new[] { 4, 12, 18, 22, 25 })]
    [InlineData(10, 3, new[] { 2, 3, 5 })]
    [InlineData(256, 16, new[] { 2, 3, 7, 8, 11, 13, 15, 16, 19, 20, 22, 23, 23, 25, 24, 25 })]
    public void CosineGroupSizesFollowMar(int tokens, int k, int[] sizes)
        => Assert.Equal(sizes, GenerationSchedule.GroupSizes(tokens, k, GroupSizeSchedule.Cosine));

    [Fact]
    public void CosineGroupsKeepTheStepCountAndCoverEveryTokenOnce()
    {
        for (int tokens = 1; tokens <= 64; tokens++)
            for (int k = 1; k <= tokens; k++)
            {
                var sizes = GenerationSchedule.GroupSizes(tokens, k, GroupSizeSchedule.Cosine);
                Assert.Equal(GenerationSchedule.GroupSizes(tokens, k).Length, sizes.Length);
                Assert.Equal(tokens, sizes.Sum());
                Assert.All(sizes, s => Assert.True(s >= 1, $"L={tokens} K={k}: empty group"));
            }
        var raster = GenerationSchedule.Raster(16, 4, GroupSizeSchedule.Cosine);
        Assert.Equal(new[] { new[] { 0, 1 }, new[] { 2, 3, 4 }, new[] { 5, 6, 7, 8, 9 }, new[] { 10, 11, 12, 13, 14, 15 } }, raster.Groups);
        var random = GenerationSchedule.Seeded(16, 4, new VgtSeed(5), GroupSizeSchedule.Cosine);
        Assert.Equal(GenerationSchedule.Seeded(16, 4, new VgtSeed(5)).Order, random.Order);   // same order, other cut points
        Assert.Equal(new[] { 2, 3, 5, 6 }, random.Groups.Select(g => g.Length));
    }

    [Fact]
    public void OneTokenPerGroupGivesLGroups()
    {
        var s = GenerationSchedule.Raster(256, 1);
        Assert.Equal(256, s.GroupCount);
        Assert.All(s.Groups, g => Assert.Single(g));
        Assert.Equal(Enumerable.Range(0, 256), s.Order);
    }

    [Fact]
    public void RandomOrderIsASeededPermutationSplitIntoConsecutiveGroups()
    {
        var a = GenerationSchedule.Seeded(81, 16, new VgtSeed(42));
        var b = GenerationSchedule.Seeded(81, 16, new VgtSeed(42));
        var c = GenerationSchedule.Seeded(81, 16, new VgtSeed(43));
        Assert.Equal(Enumerable.Range(0, 81), a.Order.Order());
        Assert.NotEqual(Enumerable.Range(0, 81), a.Order);
        Assert.Equal(a.Order, b.Order);
        Assert.NotEqual(a.Order, c.Order);
        Assert.Equal(a.Order, a.Groups.SelectMany(g => g));
        Assert.Equal(new[] { 17, 16, 16, 16, 16 }, a.Groups.Select(g => g.Length));
        var viaKind = GenerationSchedule.Create(GenerationOrderKind.Random, 81, 16, new VgtSeed(42).TorchGenerator("order"));
        Assert.Equal(a.Order, viaKind.Order);
        Assert.Equal(33, a.Progress(2).TokensDone);
    }

    [Fact]
    public void BadGroupSizesNameTheLimit()
    {
        var big = Assert.Throws<ArgumentOutOfRangeException>(() => GenerationSchedule.GroupSizes(81, 82));
        Assert.Contains("must be <= the number of tokens L = 81", big.Message);
        var small = Assert.Throws<ArgumentOutOfRangeException>(() => GenerationSchedule.Raster(81, 0));
        Assert.Contains("must be >= 1", small.Message);
        Assert.Throws<ArgumentNullException>(() => GenerationSchedule.Create(GenerationOrderKind.Random, 8, 2));
    }
}
