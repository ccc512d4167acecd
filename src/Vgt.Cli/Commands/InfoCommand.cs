using System.CommandLine;
using Vgt.Runtime;

namespace Vgt.Cli.Commands;

/// <summary>`vgt info`: versions, threads, the native fix status and the models this install can find.</summary>
public static class InfoCommand
{
    public static Command Build()
    {
        var cmd = new Command("info", "Show library and libtorch versions, threads, native fix status and available models.");
        cmd.SetAction(_ =>
        {
            var r = TorchRuntime.Report();
            Console.WriteLine($"VGT.NET       {r.LibraryVersion}");
            Console.WriteLine($"TorchSharp    {r.TorchSharpVersion}");
            Console.WriteLine($"libtorch      {r.LibTorchVersion}");
            Console.WriteLine($"threads       {r.Threads}");
            Console.WriteLine($"libstdc++     {r.SystemLibStdCxx ?? "not found"} (GLIBCXX_3.4.32: {(r.SystemHasGlibcxx3432 ? "yes" : "no")})");
            Console.WriteLine($"native fix    {DescribeFix(r)}");
            Console.WriteLine($"native lib    {r.NativeLibraryPath}");
            var models = ModelCatalog.Discover();
            Console.WriteLine($"models        {(models.Count == 0 ? "none found" : "")}");
            foreach (var m in models) Console.WriteLine($"  {m.Name,-14} {m.Directory}");
            return 0;
        });
        return cmd;
    }

    static string DescribeFix(RuntimeReport r) => r.NativeFixState switch
    {
        LibStdCxxPatchState.Patched => "applied (libLibTorchSharp.so rewritten to load without GLIBCXX_3.4.32)",
        LibStdCxxPatchState.NeedsPatch when r.SystemHasGlibcxx3432 => "not needed (system libstdc++ has GLIBCXX_3.4.32)",
        LibStdCxxPatchState.NeedsPatch => "MISSING (the library needs GLIBCXX_3.4.32, which this system lacks)",
        _ => "not applicable (the native library does not need GLIBCXX_3.4.32)",
    };
}
