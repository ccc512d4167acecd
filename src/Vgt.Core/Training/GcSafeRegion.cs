using System.Runtime;

namespace Vgt.Training;

/// <summary>
/// Keeps the .NET garbage collector (and with it the finalizer thread) out of a stretch of torch calls, then collects
/// and runs the finalizers at its end, when no native call is in flight. TorchSharp frees the scalars made by implicit
/// conversions (<c>x / 2.0</c>) only through their finalizers; a finalizer that runs while the native call using that
/// scalar is still going corrupts it ("Expected false to be true … toDouble", seen about once per 300 training steps
/// on the loaded 2-core machine). Inside the region no collection happens unless the step allocates more than
/// <see cref="Budget"/> bytes of managed memory, which it does not.
/// </summary>
public sealed class GcSafeRegion : IDisposable
{
    public const long Budget = 64L << 20;

    readonly bool started;

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

    public void Dispose()
    {
        if (started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}
