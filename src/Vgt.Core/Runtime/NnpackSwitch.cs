using System.Runtime.InteropServices;

namespace Vgt.Runtime;

/// <summary>
/// Turns libtorch's NNPACK convolution path off (PyTorch's <c>torch.backends.nnpack.set_flags(False)</c>).
/// Why: before every CPU conv2d libtorch asks whether NNPACK is available, and on CPUs NNPACK does not support that
/// first question logs "Could not initialize NNPACK! Reason: Unsupported hardware." to stderr, several times per
/// `vgt generate`. The user switch is checked first, so with it off the question is never asked. Nothing is lost:
/// libtorch only uses NNPACK for batches of ≥ 16 images, and falls back to its own kernels when it is unavailable.
/// TorchSharp has no binding for the switch, so this calls <c>at::globalContext().setUserEnabledNNPACK(false)</c>
/// through the already-loaded libtorch_cpu; if a build lacks the symbols, nothing happens.
/// </summary>
public static class NnpackSwitch
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate IntPtr GlobalContextFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate void SetEnabledFn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    delegate bool GetEnabledFn(IntPtr context);

    const string GlobalContextSymbol = "_ZN2at13globalContextEv";                       // at::globalContext()
    const string SetEnabledSymbol = "_ZN2at7Context20setUserEnabledNNPACKEb";             // at::Context::setUserEnabledNNPACK(bool)
    const string GetEnabledSymbol = "_ZNK2at7Context17userEnabledNNPACKEv";               // at::Context::userEnabledNNPACK() const

    /// <summary>
    /// Sets the NNPACK user switch of the libtorch_cpu already loaded (call after torch has loaded).
    /// Returns false when the library or its symbols are not found (then the switch is untouched).
    /// </summary>
    public static bool TrySet(bool enabled)
    {
        if (!TryResolve(out var context, out var set, out _)) return false;
        set(context, enabled);
        return true;
    }

    /// <summary>The current switch, or null when it cannot be read.</summary>
    public static bool? Get() => TryResolve(out var context, out _, out var get) ? get(context) : null;

    const int RtldLazy = 1, RtldNoLoad = 4;

    [DllImport("libc.so.6", EntryPoint = "dlopen")]
    static extern IntPtr DlopenLibc(string file, int mode);

    [DllImport("libdl.so.2", EntryPoint = "dlopen")]
    static extern IntPtr DlopenLibdl(string file, int mode);

    /// <summary>The handle of the libtorch_cpu this process already has loaded (RTLD_NOLOAD), or zero.</summary>
    static IntPtr LoadedLibTorchCpu()
    {
        try { return DlopenLibc("libtorch_cpu.so", RtldLazy | RtldNoLoad); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            try { return DlopenLibdl("libtorch_cpu.so", RtldLazy | RtldNoLoad); }
            catch (Exception e2) when (e2 is DllNotFoundException or EntryPointNotFoundException) { return IntPtr.Zero; }
        }
    }

    static bool TryResolve(out IntPtr context, out SetEnabledFn set, out GetEnabledFn get)
    {
        context = IntPtr.Zero;
        set = null!;
        get = null!;
        if (!OperatingSystem.IsLinux()) return false;                 // the symbol names are the Itanium C++ ABI's
        var lib = LoadedLibTorchCpu();                                // never loads a second copy of libtorch
        if (lib == IntPtr.Zero) return false;
        if (!NativeLibrary.TryGetExport(lib, GlobalContextSymbol, out var g)
            || !NativeLibrary.TryGetExport(lib, SetEnabledSymbol, out var s)
            || !NativeLibrary.TryGetExport(lib, GetEnabledSymbol, out var r))
            return false;
        context = Marshal.GetDelegateForFunctionPointer<GlobalContextFn>(g)();
        set = Marshal.GetDelegateForFunctionPointer<SetEnabledFn>(s);
        get = Marshal.GetDelegateForFunctionPointer<GetEnabledFn>(r);
        return context != IntPtr.Zero;
    }
}
