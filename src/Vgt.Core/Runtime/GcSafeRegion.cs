using System.Runtime;

namespace Vgt.Runtime;

/// <summary>
/// Keeps the .NET garbage collector (and with it the finalizer thread) out of a stretch of torch calls, then collects
/// and runs the finalizers at its end, when no native call is in flight. TorchSharp frees the scalars made by implicit
/// conversions (<c>x / 2.0</c>, and inside its own optimisers) only through their finalizers; a finalizer that runs
/// while the native call using that scalar is still going corrupts it ("Expected false to be true … toDouble" or
/// "Unknown scalar type", seen about once per 300 VLM steps and once per several thousand VGT steps on the loaded
/// 2-core machine). Inside the region no collection happens unless the process allocates more than
/// <see cref="Budget"/> bytes of managed memory, which a training step does not.
/// <para>
/// This is sound only when one thread drives torch: with several, a region's own collections (at its start and end)
/// may land inside another thread's native call. So regions are off unless <see cref="Enabled"/> is set, which the
/// `vgt` executable does at start-up (one thread per command) and the test project does (its tests run one at a
/// time). A host that drives torch from several threads at once leaves it off and keeps TorchSharp's ordinary (rare)
/// exposure.
/// </para>
/// </summary>
public sealed class GcSafeRegion : IDisposable
{
    public const long Budget = 64L << 20;

    /// <summary>Process-wide switch read by <see cref="Enter"/>; set once by a single-torch-thread host at start-up.</summary>
    public static bool Enabled { get; set; }

    readonly bool started;

    /// <summary>A region when <see cref="Enabled"/>, otherwise null (a <c>using</c> of null is a no-op).</summary>
    public static GcSafeRegion? Enter() => Enabled ? new GcSafeRegion() : null;

    /// <summary>Runs <paramref name="work"/> inside <see cref="Enter"/>'s region and returns its result.</summary>
    public static T Run<T>(Func<T> work)
    {
        using var region = Enter();
        return work();
    }

    public GcSafeRegion()
    {
        try
        {
            started = GC.TryStartNoGCRegion(Budget);
        }
        catch (InvalidOperationException)
        {
            started = false;   // already inside one
        }
    }

    /// <summary>Whether the collector was actually held off (false when nested in another region).</summary>
    public bool Started => started;

    public void Dispose()
    {
        if (!started) return;                 // an inner region leaves collecting to the outer one
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}
