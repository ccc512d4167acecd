using Vgt.Runtime;
using Xunit;

namespace Vgt.Tests.Runtime;

public class GcSafeRegionTests
{
    [Fact]
    public void EnterGivesARegionOnlyWhenEnabledAndAnOpenRegionHoldsTheCollectorOff()
    {
        Assert.True(GcSafeRegion.Enabled);                           // TestHostSetup: one torch thread at a time here
        GcSafeRegion.Enabled = false;
        try
        {
            Assert.Null(GcSafeRegion.Enter());
        }
        finally
        {
            GcSafeRegion.Enabled = true;
        }

        using var region = GcSafeRegion.Enter();
        Assert.NotNull(region);
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
