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
        var cfgSchedule = new Option<string?>("--cfg-schedule") { Description = "linear (the reference's, decreasing), constant or linear_increasing (with --model; default: the model's)" };
        var sampler = new Option<string?>("--sampler") { Description = "sde or ode (with --model; default: the model's)" };
        var order = new Option<string?>("--order") { Description = "random or raster (with --model; default: the model's)" };
        var temperature = new Option<double?>("--temperature") { Description = "Head sampling temperature τ (with --model; default: the model's)" };
        var interval = new Option<string?>("--guidance-interval") { Description = "Flow times LOW,HIGH where CFG applies (with --model; default: the model's)" };
        var threads = new Option<int?>("--threads") { Description = "Torch threads (with --model; default: the model's setting, else torch's)" };
        var cmd = new Command("geneval", "Generate images for every metadata line into GenEval's folder layout.")
        {
            metadata, outDir, perPrompt, seed, groundTruth, model, parallel, cfg, steps, cfgSchedule, sampler, order, temperature, interval, threads,
        };
        cmd.SetAction(parse =>
        {
            bool gt = parse.GetValue(groundTruth);
            string? modelName = parse.GetValue(model);
            if (gt == (modelName is not null))
                throw new ArgumentException("pass exactly one of --model DIR (a generator) and --ground-truth (Shapes World's renderer)");
            var overrides = new SamplingOverrides(parse.GetValue(parallel), parse.GetValue(cfg), parse.GetValue(steps), parse.GetValue(cfgSchedule),
                parse.GetValue(sampler), parse.GetValue(order), parse.GetValue(temperature), parse.GetValue(interval)) { Threads = parse.GetValue(threads) };
            if (gt && overrides.Any)
                throw new ArgumentException("--parallel, --cfg, --steps, --cfg-schedule, --sampler, --order, --temperature, --guidance-interval and --threads apply to --model only");
            using var vgt = modelName is null ? null : LoadGenerator(modelName, overrides);
            IImageGenerator generator = vgt is null ? new ShapesGroundTruthGenerator() : vgt;
            string dir = parse.GetValue(outDir)!;
            int n = parse.GetValue(perPrompt);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            GenEvalLayout.Write(parse.GetValue(metadata)!, dir, generator, n, parse.GetValue(seed), ConsoleProgress.Create());
            var r = vgt?.BenchRequest;
            var settings = r is null ? "" : $" (cfg {r.Cfg} {r.CfgSchedule}, {r.Sampler} {r.Steps} steps, temperature {r.Temperature}, guidance interval [{r.GuidanceInterval}], parallel {r.ParallelK}, {r.Order} order)";
            Console.WriteLine($"wrote {Path.GetFullPath(dir)} with {generator.Name}{settings}, {n} images per prompt, in {watch.Elapsed.TotalSeconds:0.0} s");
            Console.WriteLine($"metadata sha256: {GenEvalLayout.Sha256OfFile(parse.GetValue(metadata)!)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>Generation settings given on the command line (null = the model's default).</summary>
    sealed record SamplingOverrides(int? Parallel, double? Cfg, int? Steps, string? CfgSchedule, string? Sampler, string? Order, double? Temperature,
        string? GuidanceInterval)
    {
        public int? Threads { get; init; }

        public bool Any => Threads is not null || Parallel is not null || Cfg is not null || Steps is not null || CfgSchedule is not null
                           || Sampler is not null || Order is not null || Temperature is not null || GuidanceInterval is not null;
    }

    /// <summary>A generator directory with the benchmark's overrides applied (checked against the model's limits).</summary>
    static Vgt.Pipelines.VgtGenerator LoadGenerator(string nameOrDir, SamplingOverrides o)
    {
        if (o.Cfg is { } c && !double.IsFinite(c)) throw new ArgumentException($"--cfg must be a finite number, got {c}");
        if (o.CfgSchedule is { } cs) _ = Vgt.Sampling.CfgSchedule.Create(cs, 1.0);
        var samplerKind = GenerateCommand.ParseSampler(o.Sampler);
        var orderKind = GenerateCommand.ParseOrder(o.Order);
        GenerateCommand.CheckTemperature(o.Temperature);
        var interval = GenerateCommand.ParseInterval(o.GuidanceInterval);
        if (o.Threads is < 1) throw new ArgumentException($"--threads must be ≥ 1, got {o.Threads}");
        var g = Vgt.Pipelines.VgtGenerator.Load(Vgt.Runtime.ModelCatalog.Resolve(nameOrDir));
        try
        {
            // The model's thread setting, as `vgt generate` uses: one image per call is many tiny ops, and two benchmark
            // processes with torch's default thread count on two cores ran 6× slower than with one thread each.
            if ((o.Threads ?? g.Config.Defaults.Threads) is > 0 and var torchThreads) Vgt.Runtime.TorchRuntime.Initialise(torchThreads);
            var r = g.BenchRequest;
            int tokens = (r.Size.Height / g.PixelStride) * (r.Size.Width / g.PixelStride);
            int k = o.Parallel ?? r.ParallelK;
            if (k < 1 || k > tokens) throw new ArgumentException($"--parallel {k} is out of range: K must be in [1, {tokens}] (the tokens of the model's {r.Size.Height} px images)");
            var sampler = samplerKind ?? r.Sampler;
            int minSteps = sampler == Vgt.Pipelines.SamplerKind.EulerMaruyama ? 2 : 1;
            if (o.Steps is { } st && st < minSteps) throw new ArgumentException($"--steps must be ≥ {minSteps} for this sampler, got {st}");
            g.BenchRequest = r with
            {
                ParallelK = k, Cfg = o.Cfg ?? r.Cfg, Steps = o.Steps ?? r.Steps, CfgSchedule = o.CfgSchedule ?? r.CfgSchedule,
                Sampler = sampler, Order = orderKind ?? r.Order, Temperature = o.Temperature ?? r.Temperature,
                GuidanceInterval = interval ?? r.GuidanceInterval,
            };
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
