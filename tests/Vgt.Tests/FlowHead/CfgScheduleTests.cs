using Vgt.Sampling;

namespace Vgt.Tests.FlowHead;

public class CfgScheduleTests
{
    [Fact]
    public void ReferenceLinearScheduleDecreases()
    {
        // Appendix B item 8: group 0 uses s, group k uses 1 + (s − 1)(G − k)/G.
        var s = CfgSchedule.Create("linear", 4.5);
        var sched = GenerationSchedule.Raster(16, 4); // G = 4
        Assert.Equal(4.5, s.ScaleFor(sched.Progress(0)), 12);
        Assert.Equal(3.625, s.ScaleFor(sched.Progress(1)), 12);
        Assert.Equal(2.75, s.ScaleFor(sched.Progress(2)), 12);
        Assert.Equal(1.875, s.ScaleFor(sched.Progress(3)), 12);
    }

    [Fact]
    public void MarScheduleIncreasesWithTokensDone()
    {
        var s = CfgSchedule.Create("linear_increasing", 4.5);
        var sched = GenerationSchedule.Raster(256, 1);
        Assert.Equal(1.0, s.ScaleFor(sched.Progress(0)), 12);
        Assert.Equal(2.75, s.ScaleFor(sched.Progress(128)), 12);
        Assert.Equal(1 + 3.5 * 255 / 256, s.ScaleFor(sched.Progress(255)), 12);
        // Uneven groups: L = 81, K = 16 → sizes 17,16,… ⇒ group 1 starts after 17 tokens.
        Assert.Equal(1 + 3.5 * 17 / 81, s.ScaleFor(GenerationSchedule.Raster(81, 16).Progress(1)), 12);
    }

    [Fact]
    public void ConstantAndErrors()
    {
        Assert.Equal(3.0, CfgSchedule.Create("constant", 3.0).ScaleFor(new GroupProgress(5, 8, 10, 16)));
        Assert.Contains("known: constant, linear, linear_increasing",
            Assert.Throws<ArgumentException>(() => CfgSchedule.Create("cosine", 3.0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearDecreasingCfg(3).ScaleFor(new GroupProgress(4, 4, 0, 16)));
    }
}
