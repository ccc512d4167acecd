using Vgt.Runtime;
using Xunit;

namespace Vgt.Tests.Runtime;

public class GcSafeRegionTests
{
    [Fact]
    public void RegionsAreOffUnlessTheHostTurnsThemOnAndAnOpenRegionHoldsTheCollectorOff()
    {
        // The test host drives torch from several threads, so it must not get regions (only `vgt`'s Main enables them).
        Assert.False(GcSafeRegion.Enabled);
        Assert.Null(GcSafeRegion.Enter());

        using var region = new GcSafeRegion();
        Assert.True(region.Started);
        int before = GC.CollectionCount(0);
        var keep = new List<byte[]>();
        for (int i = 0; i < 64; i++) keep.Add(new byte[16 << 10]);      // 1 MiB, well inside the budget
        Assert.Equal(before, GC.CollectionCount(0));
        using (var inner = new GcSafeRegion()) Assert.False(inner.Started);   // nested: the outer one stays in charge
        Assert.Equal(before, GC.CollectionCount(0));
        GC.KeepAlive(keep);
    }
}
