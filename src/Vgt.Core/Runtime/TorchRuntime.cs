using System.Reflection;
using TorchSharp;

namespace Vgt.Runtime;

/// <summary>Facts about the torch runtime in this process, for `vgt info` and benchmark reports.</summary>
public sealed record RuntimeReport(
    string LibraryVersion,
    string TorchSharpVersion,
    string LibTorchVersion,
    int Threads,
    string NativeLibraryPath,
    LibStdCxxPatchState NativeFixState,
    bool SystemHasGlibcxx3432,
    string? SystemLibStdCxx);

/// <summary>Initialises torch once (threads) and reports what was loaded.</summary>
public static class TorchRuntime
{
    static int initialised;

    /// <summary>
    /// Sets the torch thread count (0 = leave torch's default), forces the native library to load and, the first time,
    /// turns libtorch's NNPACK path off.
    /// </summary>
    public static void Initialise(int threads = 0)
    {
        if (threads > 0) torch.set_num_threads(threads);
        if (Interlocked.Exchange(ref initialised, 1) == 0)
        {
            _ = torch.__version__;
            NnpackSwitch.TrySet(false);                                   // no "Could not initialize NNPACK!" spam (see NnpackSwitch)
        }
    }

    /// <summary>The libLibTorchSharp.so next to this application (the copy TorchSharp loads first).</summary>
    public static string NativeLibraryPath()
    {
        var baseDir = AppContext.BaseDirectory;
        var nested = Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(nested) ? nested : Path.Combine(baseDir, "libLibTorchSharp.so");
    }

    public static RuntimeReport Report()
    {
        Initialise();
        var native = NativeLibraryPath();
        var state = File.Exists(native) ? LibStdCxxCompat.Inspect(native) : LibStdCxxPatchState.NotApplicable;
        var lib = typeof(TorchRuntime).Assembly;
        var libVersion = lib.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? lib.GetName().Version?.ToString() ?? "?";
        var tsVersion = typeof(torch).Assembly.GetName().Version?.ToString() ?? "?";
        return new RuntimeReport(libVersion, tsVersion, torch.__version__, torch.get_num_threads(), native, state,
            LibStdCxxCompat.SystemHasRequiredVersion(), LibStdCxxCompat.FindSystemLibStdCxx());
    }
}
