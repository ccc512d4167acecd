using System.CommandLine;
using System.Globalization;
using Vgt.Imaging;
using Vgt.Logging;
using Vgt.Pipelines;
using Vgt.Runtime;
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
        var size = new Option<int?>("--size") { Description = "Square image side in pixels: a multiple of the model's stride, at most its query grid (default: the model's)" };
        var negative = new Option<string?>("--negative") { Description = "Negative prompt for the unconditional branch (default: the CFG prompt)" };
        var count = new Option<int>("--n") { Description = "Images to make (one batch, one seed)", DefaultValueFactory = _ => 1 };
        var grid = new Option<bool>("--grid") { Description = "Tile the --n images into one PNG" };
        var model = new Option<string>("--model") { Description = $"Generator name (models/NAME) or directory", DefaultValueFactory = _ => DefaultModel };
        var layout = new Option<string?>("--layout") { Description = "Models with a layout plan: draw this plan instead of one the model writes, e.g. \"red square 352, blue circle 615\" (colour shape XYS: centre cell x, y on an 8×8 grid, size class 0–2)" };
        var sampling = new SamplingOverrides.Options();
        var cmd = new Command("generate", "Generate images from a text prompt (default model: shapes-vgt, 64 px Shapes World).")
        {
            prompt, output, seed, size, negative, count, grid, model, layout,
        };
        sampling.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var options = new GenerateOptions(parse.GetValue(prompt)!, parse.GetValue(output), parse.GetValue(seed), parse.GetValue(size),
                parse.GetValue(negative), parse.GetValue(count), parse.GetValue(grid), parse.GetValue(model)!, sampling.Read(parse), parse.GetValue(layout));
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

    /// <summary>What `vgt generate` was asked for; the sampling settings are the shared <see cref="SamplingOverrides"/>.</summary>
    public sealed record GenerateOptions(string Prompt, string? Output, long Seed, int? Size, string? Negative, int Count, bool Grid, string Model,
        SamplingOverrides Sampling, string? Layout = null);


    /// <summary>Generates and writes the PNGs; <paramref name="cancel"/> (Ctrl-C) stops at the next token group and writes nothing.</summary>
    public static int Run(GenerateOptions o, CancellationToken cancel)
    {
        // Checks that need no model.
        if (string.IsNullOrWhiteSpace(o.Prompt)) throw new ArgumentException("the prompt is empty; give a description such as \"a photo of a red circle\"");
        if (o.Count < 1) throw new ArgumentException($"--n must be ≥ 1, got {o.Count}");
        if (o.Negative is not null && string.IsNullOrWhiteSpace(o.Negative)) throw new ArgumentException("--negative is empty; leave it out to use the CFG prompt");
        if (o.Layout is not null && string.IsNullOrWhiteSpace(o.Layout)) throw new ArgumentException("--layout is empty; leave it out to let the model plan the layout");
        var sampling = o.Sampling;
        sampling.Check();

        string dir = ResolveModel(o.Model);
        using var generator = VgtGenerator.Load(dir);
        sampling.ApplyThreads(generator);
        var request = generator.Request([o.Prompt]);
        int px = o.Size ?? request.Size.Height, stride = generator.PixelStride, max = generator.MaxSize;
        if (px < 1 || px % stride != 0) throw new ArgumentException($"--size {px} is not a multiple of the model's stride {stride} px (e.g. {Math.Max(stride, px / stride * stride)})");
        if (px > max) throw new ArgumentException($"--size {px} exceeds the query grid: at most {max} px ({max / stride}×{max / stride} tokens of {stride} px)");
        int tokens = (px / stride) * (px / stride);
        request = sampling.ApplyTo(request with { Seed = o.Seed, Size = (px, px), Negative = o.Negative, ImagesPerPrompt = o.Count, Layout = o.Layout }, tokens, $"a {px} px image");

        var paths = OutputPaths(o.Output, o.Count, o.Grid);
        try
        {
            using var result = GcSafeRegion.Run(() => generator.Generate(request, new CancellableProgress(ConsoleProgress.Create(), cancel)));
            cancel.ThrowIfCancellationRequested();
            Write(generator, request, result, paths, o.Grid);
            if (result.Plans is { } plans)
                for (int i = 0; i < plans.Count; i++) Console.WriteLine(plans.Count == 1 ? $"layout plan: {plans[i]}" : $"layout plan {i}: {plans[i]}");
            var t = result.Timings;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "wrote {0} ({1} image{2}, {3}×{3} px, seed {4}, cfg {5} {6}, {7} steps, parallel {8}{14}, {9} order) in {10:0.00} s (llm {11:0.00} s, head {12:0.00} s, decode {13:0.00} s)",
                string.Join(", ", paths.Select(Path.GetFullPath)), o.Count, o.Count == 1 ? "" : "s", px, request.Seed, request.Cfg, request.CfgSchedule,
                request.Steps, request.ParallelK, request.Order.ToString().ToLowerInvariant(), t.Total.TotalSeconds, t.Llm.TotalSeconds, t.Head.TotalSeconds, t.Decode.TotalSeconds,
                request.GroupScheduleNote is { } g ? $" ({g} groups)" : ""));
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
            if (result.Plans is { } plans) p = p with { Extras = new Dictionary<string, string>(p.Extras) { ["Layout plans"] = string.Join(" | ", plans) } };
            ImageFile.Save(tiled, paths[0], p);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            var p = generator.ParametersFor(request, i);
            if (n > 1) p = p with { Extras = new Dictionary<string, string>(p.Extras) { ["Batch index"] = i.ToString(CultureInfo.InvariantCulture), ["Batch size"] = n.ToString(CultureInfo.InvariantCulture) } };
            if (result.Plans is { } plans) p = p with { Extras = new Dictionary<string, string>(p.Extras) { [VgtGenerator.LayoutPlanKey] = plans[i] } };
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
