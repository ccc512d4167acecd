using System.Diagnostics;
using Vgt.Models.VgtAe;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Benchmarks;

/// <summary>
/// The real-size VGT-AE (InternVL3-1B InternViT-300M + mlp1 + bottleneck, DC-AE sana-1.1 decoder, random fp32 weights,
/// inference build without the teacher) encodes and decodes one 448×448 image. Reports build, encode and decode wall
/// and CPU times and the process's peak RSS (VmHWM).
/// </summary>
public static class VgtAeBench
{
    public static int Run(string[] args)
    {
        int i = Array.IndexOf(args, "--threads");
        TorchRuntime.Initialise(i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : 0);
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}; torch threads: {get_num_threads()}");

        var sw = Stopwatch.StartNew();
        using var ae = new VgtAutoencoder(VgtAeConfig.InternVl3_1B with { Teacher = false }, generator: new VgtSeed(0).TorchGenerator("vgtae-bench"));
        ae.eval();
        long parameters = ae.parameters().Sum(p => p.numel());
        Console.WriteLine($"built VGT-AE: {parameters:N0} parameters in {sw.Elapsed.TotalSeconds:F1} s; peak RSS {Harness.PeakRssMiB():F0} MiB");

        using var noGrad = no_grad();
        using var gen = new VgtSeed(0).TorchGenerator("vgtae-bench-image");
        using var image = rand([1, 3, 448, 448], generator: gen) * 2 - 1;
        var (latent, encode, encodeCpu) = Timed(() => ae.Encode(image).Latent);
        Console.WriteLine($"encode [1, 3, 448, 448] -> [{string.Join(", ", latent.shape)}] in {encode:F2} s wall, {encodeCpu:F1} s CPU; peak RSS {Harness.PeakRssMiB():F0} MiB");
        var (decoded, decode, decodeCpu) = Timed(() => ae.Decode(latent));
        Console.WriteLine($"decode -> [{string.Join(", ", decoded.shape)}] (DC-AE 512 px, bilinear to 448) in {decode:F2} s wall, {decodeCpu:F1} s CPU");
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"peak RSS after encode + decode: {Harness.PeakRssMiB():F0} MiB");
        latent.Dispose();
        decoded.Dispose();
        return 0;
    }

    static (Tensor Result, double Wall, double Cpu) Timed(Func<Tensor> body)
    {
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var result = body();
        return (result, sw.Elapsed.TotalSeconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds);
    }
}
