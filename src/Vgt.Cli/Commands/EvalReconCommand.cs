using System.CommandLine;
using Vgt.Evaluation;
using Vgt.Models.Perceptual;
using Vgt.Models.VgtAe;
using Vgt.Runtime;
using Vgt.Training;

namespace Vgt.Cli.Commands;

/// <summary>
/// `vgt eval recon [--model DIR] [--n N]`: PSNR, SSIM (range 1 and the reference's range 2), a Fréchet distance and the
/// Shapes World judge's agreement on reconstructed ground-truth benchmark scenes, as a table and as JSON.
/// </summary>
public static class EvalReconCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "AE model directory or name", DefaultValueFactory = _ => "shapes-ae" };
        var n = new Option<int>("--n") { Description = "Held-out scenes (test split) for PSNR / SSIM / Fréchet distance", DefaultValueFactory = _ => 1000 };
        var fdVlm = new Option<string?>("--fd-vlm")
        {
            Description = "VLM directory or name whose vision tower + projector embed images for the Fréchet distance (default: the AE's own VLM, else shapes-vlm when present; 'none' to skip)",
        };
        var benchmark = new Option<string?>("--benchmark") { Description = "GenEval metadata of the benchmark scenes (default benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl; 'none' to skip)" };
        var json = new Option<string?>("--json") { Description = "Also write the JSON report to this file" };
        var cmd = new Command("recon", "Reconstruction metrics of an AE on Shapes World.") { model, n, fdVlm, benchmark, json };
        cmd.SetAction(parse =>
        {
            int count = parse.GetValue(n);
            if (count < 2) throw new ArgumentException($"--n must be at least 2, got {count}");
            TorchRuntime.Initialise();
            var dir = ModelCatalog.Resolve(parse.GetValue(model)!);
            using var ae = VgtAeModel.Load(dir);
            var features = FeatureExtractor(ae, parse.GetValue(fdVlm), out var fdOwner);
            var metadata = BenchmarkPath(parse.GetValue(benchmark));
            var report = ReconEvaluator.Evaluate(ae, Path.GetFileName(dir), count, features, metadata, s => Console.Error.WriteLine(s));
            fdOwner?.Dispose();
            ReportOutput.Write(report.ToTable(), report.ToJson(), parse.GetValue(json));
            return 0;
        });
        return cmd;
    }

    /// <summary>The frozen vision tower + projector of a VLM as a feature extractor (its teacher copy inside an AE shell).</summary>
    static IFeatureExtractor? FeatureExtractor(LatentAutoencoder ae, string? option, out IDisposable? owner)
    {
        owner = null;
        if (option == "none") return null;
        string? vlm = option ?? ae.Config.VlmSource;
        if (vlm is null)
        {
            if (!ModelCatalog.Discover().Any(m => m.Name == "shapes-vlm")) return null;
            vlm = "shapes-vlm";
        }
        var shell = VgtAeModel.FromVlm(vlm, new VgtAeConfig
        {
            LatentChannels = ae.Config.LatentChannels, DcAe = ae.Config.DcAe, ImageSize = ae.Config.ImageSize, Teacher = true, VlmSource = vlm,
        });
        shell.eval();
        owner = shell;
        return new TeacherFeatureExtractor(shell, Path.GetFileName(vlm.TrimEnd('/')));
    }

    internal static string? BenchmarkPath(string? option)
    {
        if (option == "none") return null;
        if (option is not null) return File.Exists(option) ? option : throw new FileNotFoundException($"benchmark metadata not found: {option}", option);
        foreach (var root in ModelCatalog.SearchRoots())
        {
            var candidate = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, "benchmarks", "shapes-geneval-v1", "evaluation_metadata.jsonl");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl not found; pass --benchmark FILE or --benchmark none");
    }
}
