using System.Runtime.CompilerServices;
using Vgt.Runtime;

namespace Vgt.Tests;

static class TestHostSetup
{
    /// <summary>
    /// xunit.runner.json runs the tests one at a time, so one thread drives torch, as in `vgt`: training, evaluation and
    /// generation steps get GC-safe regions here too. Without them a collection triggered by another thread (the runner,
    /// the JIT) could run a finalizer that frees an implicit scalar mid-call; it failed a generate test deterministically
    /// once the order of the tests shifted the collections onto its `pow`.
    /// </summary>
    [ModuleInitializer]
    internal static void EnableGcSafeRegions() => GcSafeRegion.Enabled = true;
}
