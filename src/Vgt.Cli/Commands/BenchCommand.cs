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

    static Command BuildGenEval()
    {
        var metadata = new Option<string>("--metadata") { Description = "GenEval metadata file (.jsonl), e.g. benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl", Required = true };
        var outDir = new Option<string>("--out", "-o") { Description = "Output folder (must not exist or be empty): DIR/<00000..>/metadata.jsonl and samples/0000.png …", Required = true };
        var perPrompt = new Option<int>("--images-per-prompt") { Description = "Images per prompt (seeds S, S+1, …)", DefaultValueFactory = _ => ShapesBenchmark.ImagesPerPrompt };
        var seed = new Option<long>("--seed") { Description = "Seed of the first image of every prompt", DefaultValueFactory = _ => 0 };
        var groundTruth = new Option<bool>("--ground-truth") { Description = "Render the Shapes World ground-truth scene of each prompt instead of using a model" };
        var model = new Option<string?>("--model") { Description = "Generator name (models/NAME) or directory, e.g. shapes-vgt" };
        var parallel = new Option<int?>("--parallel") { Description = "Tokens decoded per step K (with --model; default: the model's)" };
        var cfg = new Option<double?>("--cfg") { Description = "Guidance scale (with --model; default: the model's)" };
        var steps = new Option<int?>("--steps") { Description = "Flow sampler steps per group (with --model; default: the model's)" };
        var cmd = new Command("geneval", "Generate images for every metadata line into GenEval's folder layout.") { metadata, outDir, perPrompt, seed, groundTruth, model, parallel, cfg, steps };
        cmd.SetAction(parse =>
        {
            bool gt = parse.GetValue(groundTruth);
            string? modelName = parse.GetValue(model);
            if (gt == (modelName is not null))
                throw new ArgumentException("pass exactly one of --model DIR (a generator) and --ground-truth (Shapes World's renderer)");
            if (gt && (parse.GetValue(parallel) is not null || parse.GetValue(cfg) is not null || parse.GetValue(steps) is not null))
                throw new ArgumentException("--parallel, --cfg and --steps apply to --model only");
            using var vgt = modelName is null ? null : LoadGenerator(modelName, parse.GetValue(parallel), parse.GetValue(cfg), parse.GetValue(steps));
            IImageGenerator generator = vgt is null ? new ShapesGroundTruthGenerator() : vgt;
            string dir = parse.GetValue(outDir)!;
            int n = parse.GetValue(perPrompt);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            GenEvalLayout.Write(parse.GetValue(metadata)!, dir, generator, n, parse.GetValue(seed), ConsoleProgress.Create());
            var settings = vgt is null ? "" : $" (cfg {vgt.BenchRequest.Cfg} {vgt.BenchRequest.CfgSchedule}, {vgt.BenchRequest.Steps} steps, parallel {vgt.BenchRequest.ParallelK})";
            Console.WriteLine($"wrote {Path.GetFullPath(dir)} with {generator.Name}{settings}, {n} images per prompt, in {watch.Elapsed.TotalSeconds:0.0} s");
            Console.WriteLine($"metadata sha256: {GenEvalLayout.Sha256OfFile(parse.GetValue(metadata)!)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>A generator directory with the benchmark's overrides applied (checked against the model's limits).</summary>
    static Vgt.Pipelines.VgtGenerator LoadGenerator(string nameOrDir, int? parallel, double? cfg, int? steps)
    {
        if (cfg is { } c && !double.IsFinite(c)) throw new ArgumentException($"--cfg must be a finite number, got {c}");
        var g = Vgt.Pipelines.VgtGenerator.Load(Vgt.Runtime.ModelCatalog.Resolve(nameOrDir));
        try
        {
            var r = g.BenchRequest;
            int tokens = (r.Size.Height / g.PixelStride) * (r.Size.Width / g.PixelStride);
            int k = parallel ?? r.ParallelK;
            if (k < 1 || k > tokens) throw new ArgumentException($"--parallel {k} is out of range: K must be in [1, {tokens}] (the tokens of the model's {r.Size.Height} px images)");
            if (steps is < 2) throw new ArgumentException($"--steps must be ≥ 2, got {steps}");
            g.BenchRequest = r with { ParallelK = k, Cfg = cfg ?? r.Cfg, Steps = steps ?? r.Steps };
            return g;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }

    static Command BuildScore()
    {
        var dir = new Argument<string>("dir") { Description = "A GenEval-layout folder (DIR/<00000..>/metadata.jsonl + samples/*.png)" };
        var json = new Option<string?>("--json") { Description = "Also write the scores (and every failure) as JSON to this file, atomically" };
        var perPrompt = new Option<int?>("--images-per-prompt") { Description = "Expected images per prompt (default: one more than the highest sample index found)" };
        var cmd = new Command("score", "Score a GenEval-layout folder with the Shapes World exact judge.") { dir, json, perPrompt };
        cmd.SetAction(parse =>
        {
            var report = GenEvalLayout.Score(parse.GetValue(dir)!, new ShapesDetector(), parse.GetValue(perPrompt), ConsoleProgress.Create());
            Console.WriteLine(report.ToText());
            if (parse.GetValue(json) is { } path)
            {
                AtomicFile.WriteAllText(path, report.ToJson());
                Console.WriteLine($"json: {Path.GetFullPath(path)}");
            }
            return 0;
        });
        return cmd;
    }
}
