using System.Reflection;
using System.Runtime.CompilerServices;
using Vgt.Runtime;
using Xunit.Sdk;

[assembly: Vgt.Tests.GcSafeTest]

namespace Vgt.Tests;

static class TestHostSetup
{
    /// <summary>
    /// xunit.runner.json runs the tests one at a time, so one thread drives torch, as in `vgt`: training, evaluation and
    /// generation steps get GC-safe regions here too (see <see cref="GcSafeRegion"/>).
    /// </summary>
    [ModuleInitializer]
    internal static void EnableGcSafeRegions() => GcSafeRegion.Enabled = true;
}

/// <summary>
/// Runs every test inside a <see cref="GcSafeRegion"/>. Tests call torch directly (parity, modules), and a collection
/// triggered by another thread (the runner, the JIT) can run a finalizer that frees one of TorchSharp's implicit
/// scalars mid-call; under load that failed a DC-AE parity test and a generate test. A test that allocates more than
/// the region's budget loses the protection for the rest of its run (the runtime collects as usual).
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class GcSafeTestAttribute : BeforeAfterTestAttribute
{
    static GcSafeRegion? current;                                  // tests run one at a time

    public override void Before(MethodInfo methodUnderTest) => current = GcSafeRegion.Enter();

    public override void After(MethodInfo methodUnderTest)
    {
        current?.Dispose();
        current = null;
    }
}
