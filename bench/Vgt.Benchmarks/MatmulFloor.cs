using static TorchSharp.torch;

namespace Vgt.Benchmarks;

/// <summary>
/// The machine's fp32 matmul throughput: the compute floor that model benchmarks are compared against
/// (time of a model ≥ its FLOPs / this rate).
/// </summary>
public static class MatmulFloor
{
    public static double MeasureGflops(int n = 1024)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n);
        var b = randn(n, n);
        var t = Harness.Measure(() => { using var s = NewDisposeScope(); _ = a.matmul(b); }, warmup: 2, runs: 7);
        return 2.0 * n * n * n / t.MedianSeconds / 1e9;
    }

    /// <summary>
    /// fp32 n³ matmul rate per wall second and per process CPU second (user + sys, all threads). On a shared machine the
    /// wall rate falls with the load; the per-CPU-second rate is the steadier floor: a stage's CPU time ≥ FLOPs / it.
    /// </summary>
    public static (double WallGflops, double CpuGflops) Measure(int n = 1024, int runs = 7)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n);
        var b = randn(n, n);
        for (int i = 0; i < 2; i++) { using var s = NewDisposeScope(); _ = a.matmul(b); }
        double cpu0 = Harness.CpuSeconds();
        var t = Harness.Measure(() => { using var s = NewDisposeScope(); _ = a.matmul(b); }, warmup: 0, runs: runs);
        double cpuPerRun = (Harness.CpuSeconds() - cpu0) / runs;
        double flops = 2.0 * n * n * n;
        return (flops / t.MedianSeconds / 1e9, flops / cpuPerRun / 1e9);
    }

    public static int Run(string[] args)
    {
        Vgt.Runtime.TorchRuntime.Initialise();
        foreach (var n in new[] { 256, 1024, 2048 })
            Console.WriteLine($"| fp32 matmul {n}³ | {Harness.F(MeasureGflops(n), "0.0")} GFLOP/s |");
        Console.WriteLine($"\n{Harness.Machine()}; command: dotnet run --project bench/Vgt.Benchmarks -c Release -- matmul");
        return 0;
    }
}
