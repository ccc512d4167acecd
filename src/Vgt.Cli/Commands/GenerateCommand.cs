using System.CommandLine;
using System.Globalization;
using Vgt.Imaging;
using Vgt.Logging;
using Vgt.Pipelines;
using Vgt.Runtime;
using Vgt.Sampling;
using static TorchSharp.torch;

namespace Vgt.Cli.Commands;

/// <summary>`vgt generate "PROMPT"`: text → PNG with a generator directory (default shapes-vgt).</summary>
public static class GenerateCommand
{
    public const string DefaultModel = "shapes-vgt";

    public static Command Build()
    {
        var prompt = new Argument<string>("prompt") { Description = "What to draw, e.g. \"a photo of a red circle left of a blue square\"" };
        var output = new Option<string?>("--output", "-o") { Description = "PNG to write (default out.png; with --n > 1 and no --grid: NAME-0.png, NAME-1.png, …)" };
        var seed = new Option<long>("--seed") { Description = "The one seed (token order, noise, sampling)", DefaultValueFactory = _ => 0 };
        var cfg = new Option<double?>("--cfg") { Description = "Guidance scale (1 = none; default: the model's)" };
        var cfgSchedule = new Option<string?>("--cfg-schedule") { Description = "linear (the reference's, decreasing), constant or linear_increasing (default: the model's)" };
        var steps = new Option<int?>("--steps") { Description = "Flow sampler steps per token group (default: the model's)" };
        var parallel = new Option<int?>("--parallel") { Description = "Tokens decoded per step K, 1 ≤ K ≤ tokens of the grid (default: the model's)" };
        var order = new Option<string?>("--order") { Description = "random or raster (default: the model's)" };
        var size = new Option<int?>("--size") { Description = "Square image side in pixels: a multiple of the model's stride, at most its query grid (default: the model's)" };
        var negative = new Option<string?>("--negative") { Description = "Negative prompt for the unconditional branch (default: the CFG prompt)" };
        var count = new Option<int>("--n") { Description = "Images to make (one batch, one seed)", DefaultValueFactory = _ => 1 };
        var grid = new Option<bool>("--grid") { Description = "Tile the --n images into one PNG" };
        var sampler = new Option<string?>("--sampler") { Description = "sde (Euler–Maruyama, the reference's) or ode (default: the model's)" };
        var temperature = new Option<double?>("--temperature") { Description = "Head sampling temperature τ > 0: noise drawn as τ·N(0, I); 1 = the reference sampler, below 1 sharper (default: the model's)" };
        var interval = new Option<string?>("--guidance-interval") { Description = "Flow times LOW,HIGH in [0, 1] (0 = noise, 1 = data) where CFG applies; elsewhere the conditional velocity alone (default: the model's; 0,1 = always, the reference)" };
        var threads = new Option<int?>("--threads") { Description = "Torch threads (default: the model's setting, else torch's)" };
        var model = new Option<string>("--model") { Description = $"Generator name (models/NAME) or directory", DefaultValueFactory = _ => DefaultModel };
        var cmd = new Command("generate", "Generate images from a text prompt (default model: shapes-vgt, 64 px Shapes World).")
        {
            prompt, output, seed, cfg, cfgSchedule, steps, parallel, order, size, negative, count, grid, sampler, temperature, interval, model, threads,
        };
        cmd.SetAction(parse =>
        {
            var options = new GenerateOptions(parse.GetValue(prompt)!, parse.GetValue(output), parse.GetValue(seed), parse.GetValue(cfg),
                parse.GetValue(cfgSchedule), parse.GetValue(steps), parse.GetValue(parallel), parse.GetValue(order), parse.GetValue(size),
                parse.GetValue(negative), parse.GetValue(count), parse.GetValue(grid), parse.GetValue(sampler), parse.GetValue(model)!)
            {
                Threads = parse.GetValue(threads), Temperature = parse.GetValue(temperature), GuidanceInterval = parse.GetValue(interval),
            };
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                return Run(options, cts.Token);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return cmd;
    }

    public sealed record GenerateOptions(string Prompt, string? Output, long Seed, double? Cfg, string? CfgSchedule, int? Steps, int? Parallel,
        string? Order, int? Size, string? Negative, int Count, bool Grid, string? Sampler, string Model)
    {
        public int? Threads { get; init; }
        public double? Temperature { get; init; }
        public string? GuidanceInterval { get; init; }
    }

    /// <summary>--guidance-interval text → interval (null = the model's default).</summary>
    public static GuidanceInterval? ParseInterval(string? text) => text is null ? null : Vgt.Sampling.GuidanceInterval.Parse(text);

    /// <summary>--order text → kind (null = the model's default).</summary>
    public static GenerationOrderKind? ParseOrder(string? order) => order switch
    {
        null => null,
        "random" => GenerationOrderKind.Random,
        "raster" => GenerationOrderKind.Raster,
        _ => throw new ArgumentException($"--order must be random or raster, got '{order}'"),
    };

    /// <summary>--sampler text → kind (null = the model's default).</summary>
    public static SamplerKind? ParseSampler(string? sampler) => sampler switch
    {
        null => null,
        "sde" => SamplerKind.EulerMaruyama,
        "ode" => SamplerKind.EulerOde,
        _ => throw new ArgumentException($"--sampler must be sde or ode, got '{sampler}'"),
    };

    /// <summary>Checks --temperature (null = the model's default).</summary>
    public static void CheckTemperature(double? temperature)
    {
        if (temperature is { } t && !(t > 0 && t <= SamplerTemperature.Max))
            throw new ArgumentException($"--temperature must be in (0, {SamplerTemperature.Max.ToString(CultureInfo.InvariantCulture)}] (1 = the model's distribution, below 1 sharper), got {t.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>Generates and writes the PNGs; <paramref name="cancel"/> (Ctrl-C) stops at the next token group and writes nothing.</summary>
    public static int Run(GenerateOptions o, CancellationToken cancel)
    {
        // Checks that need no model.
        if (string.IsNullOrWhiteSpace(o.Prompt)) throw new ArgumentException("the prompt is empty; give a description such as \"a photo of a red circle\"");
        if (o.Count < 1) throw new ArgumentException($"--n must be ≥ 1, got {o.Count}");
        if (o.Cfg is { } c && !double.IsFinite(c)) throw new ArgumentException($"--cfg must be a finite number (1 = no guidance; typical 1–10), got {c.ToString(CultureInfo.InvariantCulture)}");
        if (o.Negative is not null && string.IsNullOrWhiteSpace(o.Negative)) throw new ArgumentException("--negative is empty; leave it out to use the CFG prompt");
        if (o.CfgSchedule is { } cs) _ = CfgSchedule.Create(cs, 1.0);
        var orderKind = ParseOrder(o.Order);
        var samplerKind = ParseSampler(o.Sampler);
        CheckTemperature(o.Temperature);
        var guidanceInterval = ParseInterval(o.GuidanceInterval);

        string dir = ResolveModel(o.Model);
        if (o.Threads is < 1) throw new ArgumentException($"--threads must be ≥ 1, got {o.Threads}");
        using var generator = VgtGenerator.Load(dir);
        if ((o.Threads ?? generator.Config.Defaults.Threads) is > 0 and var torchThreads) TorchRuntime.Initialise(torchThreads);
        var request = generator.Request([o.Prompt]);
        int px = o.Size ?? request.Size.Height, stride = generator.PixelStride, max = generator.MaxSize;
        if (px < 1 || px % stride != 0) throw new ArgumentException($"--size {px} is not a multiple of the model's stride {stride} px (e.g. {Math.Max(stride, px / stride * stride)})");
        if (px > max) throw new ArgumentException($"--size {px} exceeds the query grid: at most {max} px ({max / stride}×{max / stride} tokens of {stride} px)");
        int tokens = (px / stride) * (px / stride);
        request = request with
        {
            Seed = o.Seed, Cfg = o.Cfg ?? request.Cfg, CfgSchedule = o.CfgSchedule ?? request.CfgSchedule, Steps = o.Steps ?? request.Steps,
            ParallelK = o.Parallel ?? Math.Min(request.ParallelK, tokens), Order = orderKind ?? request.Order, Size = (px, px),
            Negative = o.Negative, ImagesPerPrompt = o.Count, Sampler = samplerKind ?? request.Sampler,
            Temperature = o.Temperature ?? request.Temperature, GuidanceInterval = guidanceInterval ?? request.GuidanceInterval,
        };
        if (request.ParallelK < 1 || request.ParallelK > tokens)
            throw new ArgumentException($"--parallel {request.ParallelK} is out of range: K must be in [1, {tokens}] (the tokens of a {px} px image)");
        int minSteps = request.Sampler == SamplerKind.EulerMaruyama ? 2 : 1;
        if (request.Steps < minSteps) throw new ArgumentException($"--steps must be ≥ {minSteps} for this sampler, got {request.Steps}");

        var paths = OutputPaths(o.Output, o.Count, o.Grid);
        try
        {
            using var result = generator.Generate(request, new CancellableProgress(ConsoleProgress.Create(), cancel));
            cancel.ThrowIfCancellationRequested();
            Write(generator, request, result, paths, o.Grid);
            var t = result.Timings;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "wrote {0} ({1} image{2}, {3}×{3} px, seed {4}, cfg {5} {6}, {7} steps, parallel {8}, {9} order) in {10:0.00} s (llm {11:0.00} s, head {12:0.00} s, decode {13:0.00} s)",
                string.Join(", ", paths.Select(Path.GetFullPath)), o.Count, o.Count == 1 ? "" : "s", px, request.Seed, request.Cfg, request.CfgSchedule,
                request.Steps, request.ParallelK, request.Order.ToString().ToLowerInvariant(), t.Total.TotalSeconds, t.Llm.TotalSeconds, t.Head.TotalSeconds, t.Decode.TotalSeconds));
            return 0;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled: no image was written");
            return 130;
        }
    }

    /// <summary>A model name from the catalogue or a directory; a clear message when the default model is missing.</summary>
    static string ResolveModel(string nameOrDir)
    {
        try
        {
            return ModelCatalog.Resolve(nameOrDir);
        }
        catch (DirectoryNotFoundException e) when (nameOrDir == DefaultModel)
        {
            throw new DirectoryNotFoundException($"{e.Message} The default generator models/{DefaultModel} ships with the repository; train one with `vgt train vgt --config configs/shapes-vgt.json` or pass --model DIR.");
        }
    }

    public static IReadOnlyList<string> OutputPaths(string? output, int count, bool grid)
    {
        var path = output ?? "out.png";
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException($"-o must name a .png file, got '{path}'");
        if (count == 1 || grid) return [path];
        var stem = path[..^4];
        return Enumerable.Range(0, count).Select(i => $"{stem}-{i}.png").ToList();
    }

    static void Write(VgtGenerator generator, GenerationRequest request, GenerationResult result, IReadOnlyList<string> paths, bool grid)
    {
        int n = (int)result.Images.shape[0];
        using var scope = NewDisposeScope();
        var images = result.Images.clamp(-1, 1);
        if (grid && n > 1)
        {
            int cols = (int)Math.Ceiling(Math.Sqrt(n)), rows = (n + cols - 1) / cols;
            var tiled = Tile(images, rows, cols);
            var p0 = generator.ParametersFor(request, 0);
            var p = p0 with
            {
                Extras = new Dictionary<string, string>(p0.Extras) { ["Images"] = n.ToString(CultureInfo.InvariantCulture), ["Grid"] = $"{rows}x{cols}" },
            };
            ImageFile.Save(tiled, paths[0], p);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            var p = generator.ParametersFor(request, i);
            if (n > 1) p = p with { Extras = new Dictionary<string, string>(p.Extras) { ["Batch index"] = i.ToString(CultureInfo.InvariantCulture), ["Batch size"] = n.ToString(CultureInfo.InvariantCulture) } };
            ImageFile.Save(images[i], paths[i], p);
        }
    }

    /// <summary>images [N,3,H,W] → one [3, rows·H, cols·W] image, empty cells white.</summary>
    public static Tensor Tile(Tensor images, int rows, int cols)
    {
        long n = images.shape[0], h = images.shape[2], w = images.shape[3];
        var padded = cat([images, ones(rows * cols - n, 3, h, w, dtype: images.dtype)], 0);     // [R·C,3,H,W]
        return padded.view(rows, cols, 3, h, w).permute(2, 0, 3, 1, 4).reshape(3, rows * h, cols * w);
    }

    /// <summary>Throws <see cref="OperationCanceledException"/> at the next progress step once cancelled (Ctrl-C).</summary>
    sealed class CancellableProgress(IProgressFactory inner, CancellationToken token) : IProgressFactory
    {
        public IProgressReporter Start(string label, long total) => new Reporter(inner.Start(label, total), token);

        sealed class Reporter(IProgressReporter inner, CancellationToken token) : IProgressReporter
        {
            public void Advance(long steps = 1, string? status = null)
            {
                token.ThrowIfCancellationRequested();
                inner.Advance(steps, status);
            }

            public void Dispose() => inner.Dispose();
        }
    }
}
