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
        var cmd = new Command("geneval", "Generate images for every metadata line into GenEval's folder layout.")
        {
            metadata, outDir, perPrompt, seed, groundTruth, model,
        };
        var sampling = new SamplingOverrides.Options("with --model; ");
        sampling.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            bool gt = parse.GetValue(groundTruth);
            string? modelName = parse.GetValue(model);
            if (gt == (modelName is not null))
                throw new ArgumentException("pass exactly one of --model DIR (a generator) and --ground-truth (Shapes World's renderer)");
            var overrides = sampling.Read(parse);
            if (gt && overrides.Any)
                throw new ArgumentException("--parallel, --cfg, --steps, --cfg-schedule, --sampler, --order, --group-schedule, --temperature, --guidance-interval, --code-cfg and --threads apply to --model only");
            using var vgt = modelName is null ? null : LoadGenerator(modelName, overrides);
            IImageGenerator generator = vgt is null ? new ShapesGroundTruthGenerator() : vgt;
            string dir = parse.GetValue(outDir)!;
            int n = parse.GetValue(perPrompt);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            GenEvalLayout.Write(parse.GetValue(metadata)!, dir, generator, n, parse.GetValue(seed), ConsoleProgress.Create());
            var r = vgt?.BenchRequest;
            var settings = r is null ? "" : $" (cfg {r.Cfg} {r.CfgSchedule}, {r.Sampler} {r.Steps} steps, temperature {r.Temperature}, guidance interval [{r.GuidanceInterval}], parallel {r.ParallelK}{(r.GroupScheduleNote is { } g ? $" ({g} groups)" : "")}, {r.Order} order)";
            Console.WriteLine($"wrote {Path.GetFullPath(dir)} with {generator.Name}{settings}, {n} images per prompt, in {watch.Elapsed.TotalSeconds:0.0} s");
            Console.WriteLine($"metadata sha256: {GenEvalLayout.Sha256OfFile(parse.GetValue(metadata)!)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>A generator directory with the benchmark's overrides applied (checked against the model's limits).</summary>
    internal static Vgt.Pipelines.VgtGenerator LoadGenerator(string nameOrDir, SamplingOverrides o)
    {
        o.Check();
        var g = Vgt.Pipelines.VgtGenerator.Load(Vgt.Runtime.ModelCatalog.Resolve(nameOrDir));
        try
        {
            o.ApplyThreads(g);
            var r = g.BenchRequest;
            int tokens = (r.Size.Height / g.PixelStride) * (r.Size.Width / g.PixelStride);
            g.BenchRequest = o.ApplyTo(r, tokens, $"the model's {r.Size.Height} px images");
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
