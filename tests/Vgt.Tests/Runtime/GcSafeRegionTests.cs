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

        Assert.Equal(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);   // GcSafeTest's region
        using var region = GcSafeRegion.Enter();
        Assert.NotNull(region);
        Assert.False(region.Started);                                // nested in the test's own region
        int before = GC.CollectionCount(0);
        var keep = new List<byte[]>();
        for (int i = 0; i < 64; i++) keep.Add(new byte[16 << 10]);      // 1 MiB, well inside the budget
        Assert.Equal(before, GC.CollectionCount(0));
        GC.KeepAlive(keep);
    }
}
