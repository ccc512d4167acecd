using System.Diagnostics;
using Vgt.Models.DcAe;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Benchmarks;

/// <summary>
/// One timed decode of a [1, 32, h, w] latent (default 16×16 → 512×512) by the real dc-ae-f32c32-sana-1.1 decoder with
/// random (default-init) fp32 weights, plus VGT's resize to 28·h. Reports wall times and the process's peak RSS (VmHWM).
/// </summary>
public static class DcAeDecodeBench
{
    public static int Run(string[] args)
    {
        int threads = IntOption(args, "--threads", 0);
        int latent = IntOption(args, "--latent", 16);
        TorchRuntime.Initialise(threads);
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"torch threads: {get_num_threads()}, latent [1, 32, {latent}, {latent}]");
        Console.WriteLine($"peak RSS at start: {PeakRssMiB():F0} MiB");

        var sw = Stopwatch.StartNew();
        using var decoder = new DcAeDecoder(DcAeConfig.Sana11F32C32);
        decoder.eval();
        long parameters = decoder.parameters().Sum(p => p.numel());
        Console.WriteLine($"built decoder: {parameters:N0} parameters in {sw.Elapsed.TotalSeconds:F1} s; peak RSS {PeakRssMiB():F0} MiB, RSS {RssMiB():F0} MiB");

        using var noGrad = no_grad();
        using var gen = new VgtSeed(0).TorchGenerator("dcae-bench");
        using var z = randn([1, 32, latent, latent], generator: gen);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        sw.Restart();
        using var image = decoder.forward(z);
        double decode = sw.Elapsed.TotalSeconds;
        double decodeCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        sw.Restart();
        using var resized = DecodedImageResize.ToStride(image, latent, latent);
        double resize = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"decode -> [{string.Join(", ", image.shape)}] in {decode:F2} s wall, {decodeCpu:F1} s CPU (user+sys); resize -> [{string.Join(", ", resized.shape)}] in {resize * 1000:F0} ms");
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"peak RSS after decode: {PeakRssMiB():F0} MiB (process high-water mark: weights + activations + runtime)");
        return 0;
    }

    static int IntOption(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    static double PeakRssMiB() => StatusKiB("VmHWM:") / 1024.0;
    static double RssMiB() => StatusKiB("VmRSS:") / 1024.0;

    static long StatusKiB(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0]);
    }
}
