using System.CommandLine;
using System.Globalization;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Cli.Commands;

/// <summary>`vgt shapes render|detect|verify`: Shapes World scenes, the exact detector and the ground-truth check.</summary>
public static class ShapesCommand
{
    public static Command Build()
    {
        var cmd = new Command("shapes", "Shapes World: render a prompt, detect objects in an image, verify renderer against judge.");
        cmd.Subcommands.Add(BuildRender());
        cmd.Subcommands.Add(BuildDetect());
        cmd.Subcommands.Add(BuildVerify());
        cmd.Subcommands.Add(BuildBenchmarkMetadata());
        return cmd;
    }

    static Command BuildBenchmarkMetadata()
    {
        var output = new Option<string>("--output", "-o") { Description = "File to write (the committed copy is benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl)", Required = true };
        var cmd = new Command("benchmark-metadata", $"Write the {ShapesBenchmark.Name} metadata file (208 GenEval metadata lines).") { output };
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            Vgt.IO.AtomicFile.WriteAllText(path, ShapesBenchmark.MetadataFileV1());
            Console.WriteLine($"wrote {Path.GetFullPath(path)} ({ShapesBenchmark.PromptsV1().Count} prompts), sha256 {GenEvalLayout.Sha256OfFile(path)}");
            return 0;
        });
        return cmd;
    }

    static Command BuildRender()
    {
        var prompt = new Option<string>("--prompt", "-p") { Description = "A Shapes World prompt, e.g. \"a photo of a red circle and a blue square\"", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "PNG file to write", Required = true };
        var seed = new Option<long>("--seed") { Description = "Scene seed", DefaultValueFactory = _ => 0 };
        var size = new Option<int>("--size") { Description = "Image side in pixels (64 is the benchmark size; others scale every length)", DefaultValueFactory = _ => ShapesVocabulary.CanvasSize };
        var cmd = new Command("render", "Render the ground-truth scene of a prompt to a PNG and print its metadata, caption and questions.") { prompt, output, seed, size };
        cmd.SetAction(parse =>
        {
            var p = ShapesPromptParser.Parse(parse.GetValue(prompt)!);
            var scene = ShapesSceneSampler.ForPrompt(p, parse.GetValue(seed));
            string path = parse.GetValue(output)!;
            RgbImageFiles.SavePng(ShapesRenderer.Render(scene, parse.GetValue(size)), path);
            Console.WriteLine($"wrote {Path.GetFullPath(path)}");
            Console.WriteLine($"metadata: {p.Metadata.ToJsonLine()}");
            foreach (var o in scene.Objects)
                Console.WriteLine($"  {o.Color,-7} {o.Shape,-9} box x={o.X0} y={o.Y0} side={o.Side} rgb={o.Fill}");
            foreach (var qa in ShapesText.Questions(scene)) Console.WriteLine($"  Q: {qa.Question}  A: {qa.Answer}");
            return 0;
        });
        return cmd;
    }

    static Command BuildDetect()
    {
        var image = new Argument<string>("image") { Description = "An image file (PNG)" };
        var cmd = new Command("detect", "Run the exact Shapes World detector on an image and list the objects found.") { image };
        cmd.SetAction(parse =>
        {
            var found = new ShapesDetector().Analyse(RgbImageFiles.Load(parse.GetValue(image)!));
            Console.WriteLine($"{found.Count} object(s)");
            var inv = CultureInfo.InvariantCulture;
            foreach (var o in found)
                Console.WriteLine(string.Format(inv, "  {0,-8} {1,-8} box x={2} y={3} w={4} h={5}  area={6} fill={7:0.000} row={8:0.000} rgb=({9:0.#}, {10:0.#}, {11:0.#})",
                    o.Shape, o.Color, o.X, o.Y, o.Width, o.Height, o.Area, o.Fill, o.RowRatio, o.MedianR, o.MedianG, o.MedianB));
            return 0;
        });
        return cmd;
    }

    static Command BuildVerify()
    {
        var n = new Option<int>("--n") { Description = "Number of scenes (category i mod 6)", DefaultValueFactory = _ => 10000 };
        var seed = new Option<long>("--seed") { Description = "Seed of the scene streams", DefaultValueFactory = _ => 0 };
        var robustness = new Option<bool>("--robustness") { Description = "Also judge after JPEG q75, Gaussian blur σ 0.7 px and Gaussian noise σ 4/255" };
        var cmd = new Command("verify", "Render n ground-truth scenes and check that the exact judge marks every one correct.") { n, seed, robustness };
        cmd.SetAction(parse =>
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var results = ShapesVerification.Run(parse.GetValue(n), parse.GetValue(seed), parse.GetValue(robustness), ConsoleProgress.Create());
            Console.Write(ShapesVerification.ToMarkdown(results));
            foreach (var c in results)
                foreach (var f in c.FirstFailures) Console.WriteLine($"  [{c.Name}] {f}");
            Console.WriteLine($"({watch.Elapsed.TotalSeconds:0.0} s)");
            bool pass = results[0].Correct == results[0].Total;
            Console.WriteLine(pass ? "ground truth passes: 100% correct" : "GROUND TRUTH FAILS: the renderer and the judge disagree");
            return pass ? 0 : 1;
        });
        return cmd;
    }
}
