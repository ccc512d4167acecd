using System.Diagnostics;
using System.Globalization;

namespace Vgt.Benchmarks;

/// <summary>Timing and memory measurement shared by all benchmarks: warm-up runs, then the median of timed runs.</summary>
public static class Harness
{
    public sealed record Timing(double MedianSeconds, double MinSeconds, int Runs);

    public static Timing Measure(Action body, int warmup = 1, int runs = 5)
    {
        for (int i = 0; i < warmup; i++) body();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            body();
            times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return new Timing(times[runs / 2], times[0], runs);
    }

    /// <summary>Peak resident set size of this process so far (VmHWM), in MiB; NaN where /proc is absent.</summary>
    public static double PeakRssMiB()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return double.NaN;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:"));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>CPU time (user + sys) this process has used so far, in seconds: steadier than wall time on a shared machine.</summary>
    public static double CpuSeconds() => System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>The 1-minute load average; NaN where /proc is absent.</summary>
    public static double LoadAverage() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : double.NaN;

    public static string Machine() =>
        $"{Environment.ProcessorCount} cores, TorchSharp threads {TorchSharp.torch.get_num_threads()}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";

    public static string F(double v, string fmt = "0.000") => v.ToString(fmt, CultureInfo.InvariantCulture);
}
