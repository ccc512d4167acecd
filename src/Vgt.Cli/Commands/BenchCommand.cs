using System.CommandLine;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;
using Vgt.IO;

namespace Vgt.Cli.Commands;

/// <summary>`vgt bench geneval|score`: generate images in GenEval's folder layout and score such a folder.</summary>
public static class BenchCommand
{
    public static Command Build()
    {
        var cmd = new Command("bench", "GenEval-style benchmarks: generate images in GenEval's folder layout and score them.");
        cmd.Subcommands.Add(BuildGenEval());
        cmd.Subcommands.Add(BuildScore());
        return cmd;
    }

    /// <summary>
    /// Runs a command body; an input problem (bad file, malformed metadata, prompt outside the grammar) prints
    /// "error: …" and returns 2 instead of System.CommandLine's stack trace.
    /// </summary>
    internal static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (CliErrors.IsUserError(e) || e is IOException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    static Command BuildGenEval()
    {
        var metadata = new Option<string>("--metadata") { Description = "GenEval metadata file (.jsonl), e.g. benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl", Required = true };
        var outDir = new Option<string>("--out", "-o") { Description = "Output folder (must not exist or be empty): DIR/<00000..>/metadata.jsonl and samples/0000.png …", Required = true };
        var perPrompt = new Option<int>("--images-per-prompt") { Description = "Images per prompt (seeds S, S+1, …)", DefaultValueFactory = _ => ShapesBenchmark.ImagesPerPrompt };
        var seed = new Option<long>("--seed") { Description = "Seed of the first image of every prompt", DefaultValueFactory = _ => 0 };
        var groundTruth = new Option<bool>("--ground-truth") { Description = "Render the Shapes World ground-truth scene of each prompt (the only generator so far)" };
        var cmd = new Command("geneval", "Generate images for every metadata line into GenEval's folder layout.") { metadata, outDir, perPrompt, seed, groundTruth };
        cmd.SetAction(parse => BenchCommand.Guard(() =>
        {
            IImageGenerator generator = parse.GetValue(groundTruth)
                ? new ShapesGroundTruthGenerator()
                : throw new NotSupportedException("No model generator is available yet: pass --ground-truth to render Shapes World ground-truth scenes.");
            string dir = parse.GetValue(outDir)!;
            int n = parse.GetValue(perPrompt);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            GenEvalLayout.Write(parse.GetValue(metadata)!, dir, generator, n, parse.GetValue(seed), ConsoleProgress.Create());
            Console.WriteLine($"wrote {Path.GetFullPath(dir)} with {generator.Name}, {n} images per prompt, in {watch.Elapsed.TotalSeconds:0.0} s");
            Console.WriteLine($"metadata sha256: {GenEvalLayout.Sha256OfFile(parse.GetValue(metadata)!)}");
            return 0;
        }));
        return cmd;
    }

    static Command BuildScore()
    {
        var dir = new Argument<string>("dir") { Description = "A GenEval-layout folder (DIR/<00000..>/metadata.jsonl + samples/*.png)" };
        var json = new Option<string?>("--json") { Description = "Also write the scores (and every failure) as JSON to this file, atomically" };
        var perPrompt = new Option<int?>("--images-per-prompt") { Description = "Expected images per prompt (default: one more than the highest sample index found)" };
        var cmd = new Command("score", "Score a GenEval-layout folder with the Shapes World exact judge.") { dir, json, perPrompt };
        cmd.SetAction(parse => BenchCommand.Guard(() =>
        {
            var report = GenEvalLayout.Score(parse.GetValue(dir)!, new ShapesDetector(), parse.GetValue(perPrompt), ConsoleProgress.Create());
            Console.WriteLine(report.ToText());
            if (parse.GetValue(json) is { } path)
            {
                AtomicFile.WriteAllText(path, report.ToJson());
                Console.WriteLine($"json: {Path.GetFullPath(path)}");
            }
            return 0;
        }));
        return cmd;
    }
}
