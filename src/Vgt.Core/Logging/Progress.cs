using System.Diagnostics;
using System.Globalization;

namespace Vgt.Logging;

/// <summary>Reports progress of one long task (training steps, images generated, positions decoded).</summary>
public interface IProgressReporter : IDisposable
{
    void Advance(long steps = 1, string? status = null);
}

/// <summary>Creates progress reporters; front ends choose the kind (bars on a terminal, lines in logs).</summary>
public interface IProgressFactory
{
    IProgressReporter Start(string label, long total);
}

/// <summary>Reports nothing (library use, tests).</summary>
public sealed class NullProgress : IProgressFactory, IProgressReporter
{
    public static readonly NullProgress Instance = new();
    public IProgressReporter Start(string label, long total) => this;
    public void Advance(long steps = 1, string? status = null) { }
    public void Dispose() { }
}

/// <summary>
/// Plain progress lines for non-interactive output (CI, log files):
/// <c>train: 120/2000 (6.0%) 3.41 it/s ETA 00:09:11 loss=0.123</c>, at most one line per interval.
/// </summary>
public sealed class PlainProgressFactory(TextWriter writer, TimeSpan? interval = null) : IProgressFactory
{
    readonly TimeSpan interval = interval ?? TimeSpan.FromSeconds(5);

    public IProgressReporter Start(string label, long total) => new Reporter(writer, label, total, interval);

    sealed class Reporter(TextWriter writer, string label, long total, TimeSpan interval) : IProgressReporter
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        TimeSpan? lastPrint;
        long done;
        string? status;

        public void Advance(long steps = 1, string? status = null)
        {
            done += steps;
            this.status = status ?? this.status;
            if (lastPrint is null || clock.Elapsed - lastPrint >= interval || done >= total) Print();
        }

        void Print()
        {
            lastPrint = clock.Elapsed;
            writer.WriteLine(FormatLine(label, done, total, clock.Elapsed, status));
            writer.Flush();
        }

        public void Dispose()
        {
            if (done < total) Print(); // the last state, if it was throttled away
        }
    }

    /// <summary>One progress line: step, total, percentage, rate and ETA.</summary>
    public static string FormatLine(string label, long done, long total, TimeSpan elapsed, string? status)
    {
        var inv = CultureInfo.InvariantCulture;
        double rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        string pct = total > 0 ? (100.0 * done / total).ToString("0.0", inv) + "%" : "?";
        string eta = rate > 0 && total > done ? TimeSpan.FromSeconds((total - done) / rate).ToString(@"hh\:mm\:ss", inv) : "00:00:00";
        string rateText = rate >= 1 ? rate.ToString("0.00", inv) + " it/s" : (rate > 0 ? (1 / rate).ToString("0.00", inv) + " s/it" : "- it/s");
        var line = $"{label}: {done}/{total} ({pct}) {rateText} ETA {eta}";
        return status is null ? line : line + " " + status;
    }
}
