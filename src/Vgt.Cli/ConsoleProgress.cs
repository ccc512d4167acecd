using Spectre.Console;
using Vgt.Logging;

namespace Vgt.Cli;

/// <summary>Progress bars on an interactive terminal; plain progress lines (step, total, rate, ETA) otherwise.</summary>
public static class ConsoleProgress
{
    public static bool IsInteractive => !Console.IsOutputRedirected && !Console.IsErrorRedirected
        && AnsiConsole.Profile.Capabilities.Interactive && Environment.GetEnvironmentVariable("CI") is null;

    public static IProgressFactory Create() => IsInteractive ? new SpectreProgressFactory() : new PlainProgressFactory(Console.Error);

    /// <summary>A single live bar drawn on stderr; Spectre's Progress widget owns the console while it runs, so we draw our own line.</summary>
    sealed class SpectreProgressFactory : IProgressFactory
    {
        public IProgressReporter Start(string label, long total) => new Bar(label, total);

        sealed class Bar(string label, long total) : IProgressReporter
        {
            readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
            long done;
            string? status;
            TimeSpan? last;

            public void Advance(long steps = 1, string? status = null)
            {
                done += steps;
                this.status = status ?? this.status;
                if (last is not null && clock.Elapsed - last < TimeSpan.FromMilliseconds(100) && done < total) return;
                last = clock.Elapsed;
                const int width = 30;
                int filled = total > 0 ? (int)Math.Min(width, width * done / total) : 0;
                var bar = new string('█', filled) + new string('░', width - filled);
                var line = PlainProgressFactory.FormatLine(label, done, total, clock.Elapsed, status);
                var text = $"\r{bar} {line}";
                int max = Math.Max(20, Console.WindowWidth - 1);
                Console.Error.Write(text.Length > max ? text[..max] : text.PadRight(max));
            }

            public void Dispose() => Console.Error.WriteLine();
        }
    }
}
