using System.CommandLine;
using System.Globalization;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Cli.Commands;

/// <summary>
/// `vgt eval completion [--model DIR] [--known 0,32,48,60]`: how well a generator fills in benchmark scenes of which
/// part of the latent tokens is given (see <see cref="CompletionEvaluation"/>), as a table and as JSON.
/// </summary>
public static class EvalCompletionCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "Generator name (models/NAME) or directory", DefaultValueFactory = _ => "shapes-vgt" };
        var known = new Option<string>("--known")
        {
            Description = "Comma-separated counts of latent tokens kept from the ground truth (0 = plain generation, all = reconstruction)",
            DefaultValueFactory = _ => "0,32,48,60",
        };
        var seeds = new Option<int>("--scenes-per-prompt") { Description = "Ground-truth scenes per benchmark prompt (seeds 0 … N−1)", DefaultValueFactory = _ => 1 };
        var benchmark = new Option<string?>("--benchmark") { Description = "GenEval metadata of the benchmark scenes (default benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl)" };
        var json = new Option<string?>("--json") { Description = "Also write the JSON report to this file" };
        var cmd = new Command("completion", "Judge a generator's completions of ground-truth scenes with part of their latent tokens given.")
        {
            model, known, seeds, benchmark, json,
        };
        var sampling = new SamplingOverrides.Options("");
        sampling.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var counts = ParseCounts(parse.GetValue(known)!);
            var metadata = EvalReconCommand.BenchmarkPath(parse.GetValue(benchmark))
                           ?? throw new ArgumentException("--benchmark none: completion needs benchmark scenes");
            using var generator = BenchCommand.LoadGenerator(parse.GetValue(model)!, sampling.Read(parse));
            int size = generator.BenchRequest.Size.Height;
            var report = CompletionEvaluation.Run(generator, new ShapesGroundTruthGenerator(size), metadata, counts,
                parse.GetValue(seeds), size, ConsoleProgress.Create());
            ReportOutput.Write(report.ToTable(), report.ToJson(), parse.GetValue(json));
            return 0;
        });
        return cmd;
    }

    static int[] ParseCounts(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ArgumentException("--known needs at least one count, e.g. --known 0,48");
        return parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
            : throw new ArgumentException($"--known: '{p}' is not a non-negative whole number (e.g. --known 0,32,48,60)")).ToArray();
    }
}
