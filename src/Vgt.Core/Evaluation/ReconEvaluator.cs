using System.Text.Json;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation.Metrics;
using Vgt.Imaging;
using Vgt.Models.Perceptual;
using Vgt.Models.VgtAe;
using static TorchSharp.torch;

namespace Vgt.Evaluation;

/// <summary>One benchmark scene whose reconstruction the judge rates differently from its ground truth.</summary>
public sealed record JudgeDisagreement(string Prompt, string Tag, long Seed, string GroundTruthVerdict, string ReconstructionVerdict);

/// <summary>Per-category and overall agreement of the judge's verdicts on reconstructions vs on the ground truth.</summary>
public sealed record JudgeAgreement(int Images, int Agreeing, int GroundTruthCorrect, int ReconstructionCorrect,
    IReadOnlyDictionary<string, double> PerCategory)
{
    public double Overall => Images == 0 ? double.NaN : (double)Agreeing / Images;

    /// <summary>Every scene where the two verdicts differ, with the judge's reasons (what to look at next).</summary>
    public IReadOnlyList<JudgeDisagreement> Disagreements { get; init; } = [];
}

/// <summary>What `vgt eval recon` reports. PSNR and SSIM are means over images; <see cref="FrechetDistance"/> is null without a feature extractor.</summary>
public sealed record ReconReport(string Model, int Images, int ImageSize, double Psnr, double Ssim, double SsimDr2,
    string? FrechetLabel, double? FrechetDistance, JudgeAgreement? Judge, double Seconds)
{
    public string ToTable()
    {
        var rows = new List<(string, string)>
        {
            ("model", Model),
            ("held-out scenes", $"{Images} (test split, {ImageSize} px)"),
            ("PSNR (dB, range 1)", $"{Psnr:F2}"),
            ("SSIM (range 1)", $"{Ssim:F4}"),
            ("SSIM (range 2, reference)", $"{SsimDr2:F4}"),
            (FrechetLabel ?? "Fréchet distance", FrechetDistance is { } fd ? $"{fd:F4}" : "n/a (no feature extractor)"),
        };
        if (Judge is { } j)
        {
            rows.Add(("judge agreement (overall)", $"{j.Overall:F4} ({j.Agreeing}/{j.Images})"));
            foreach (var (tag, v) in j.PerCategory) rows.Add(($"  {tag}", $"{v:F4}"));
            rows.Add(("  ground truth / recon judged correct", $"{j.GroundTruthCorrect} / {j.ReconstructionCorrect}"));
            foreach (var d in j.Disagreements.Take(MaxListed))
                rows.Add(($"  differs: {d.Prompt} (seed {d.Seed})", $"ground truth: {Verdict(d.GroundTruthVerdict)}; reconstruction: {Verdict(d.ReconstructionVerdict)}"));
            if (j.Disagreements.Count > MaxListed) rows.Add(($"  … {j.Disagreements.Count - MaxListed} more", "(all in the JSON report)"));
        }
        rows.Add(("time (s)", $"{Seconds:F1}"));
        int w = rows.Max(r => r.Item1.Length);
        return string.Join("\n", rows.Select(r => $"{r.Item1.PadRight(w)}  {r.Item2}"));
    }

    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);

    const int MaxListed = 12;

    static string Verdict(string reason) => reason.Length == 0 ? "correct" : reason;
}

/// <summary>
/// Reconstruction quality of an AE on Shapes World: PSNR (range 1), SSIM (range 1 and the reference's range 2), a
/// Fréchet distance in the feature space of an optional extractor, on held-out scenes of the test split; and the
/// exact judge's agreement on reconstructions of the ground-truth benchmark scenes (shapes-geneval-v1, 4 seeds per prompt).
/// Reconstructions are clamped to [−1,1] before the metrics (as the reference evaluator does).
/// </summary>
public static class ReconEvaluator
{
    /// <summary>Reconstructs [B,3,H,W] images in [−1,1] in eval mode, in chunks; returns clamped reconstructions.</summary>
    public static Tensor Reconstruct(LatentAutoencoder ae, Tensor images, int batchSize = 32)
    {
        bool was = ae.training;
        ae.eval();
        try
        {
            using var _ = no_grad();
            var parts = new List<Tensor>();
            for (long i = 0; i < images.shape[0]; i += batchSize)
            {
                using var scope = NewDisposeScope();
                var x = images.narrow(0, i, Math.Min(batchSize, images.shape[0] - i));
                parts.Add(ae.Decode(ae.Encode(x).Latent).clamp(-1, 1).MoveToOuterDisposeScope());
            }
            var all = cat(parts.ToArray());
            foreach (var p in parts) p.Dispose();
            return all;
        }
        finally
        {
            ae.train(was);
        }
    }

    /// <summary>The first <paramref name="count"/> scenes of a split, stacked [N,3,S,S] in [−1,1].</summary>
    public static Tensor HeldOutImages(int count, int imageSize, ShapesSplit split = ShapesSplit.Test)
    {
        var ds = new ShapesDataset(new ShapesDatasetOptions(split, imageSize));
        using var scope = NewDisposeScope();
        return stack(ds.Stream().Take(count).Select(s => s.ImageTensor()).ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>Mean PSNR of reconstructions of <paramref name="images"/> ([−1,1]).</summary>
    public static double MeanPsnr(LatentAutoencoder ae, Tensor images)
    {
        using var scope = NewDisposeScope();
        var rec = Reconstruct(ae, images);
        return Psnr.PerImage((rec + 1) / 2, (images + 1) / 2).mean().item<double>();
    }

    public static ReconReport Evaluate(LatentAutoencoder ae, string modelName, int count, IFeatureExtractor? features,
        string? benchmarkMetadata, Action<string>? log = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int size = ae.Config.ImageSize;
        using var scope = NewDisposeScope();
        log?.Invoke($"rendering {count} held-out scenes (test split, {size} px)");
        var images = HeldOutImages(count, size);
        log?.Invoke("reconstructing");
        var rec = Reconstruct(ae, images);
        var real01 = (images + 1) / 2;
        var fake01 = (rec + 1) / 2;
        double psnr = Psnr.PerImage(fake01, real01).mean().item<double>();
        double ssim = Ssim.PerImage(fake01, real01, SsimDataRange.Standard).mean().item<double>();
        double ssim2 = Ssim.PerImage(fake01, real01, SsimDataRange.VgtReference).mean().item<double>();
        double? fd = null;
        string? label = null;
        if (features is not null)
        {
            log?.Invoke($"Fréchet distance in the '{features.Name}' feature space");
            using var frechet = new FeatureFrechetDistance(features);
            for (long i = 0; i < count; i += 100)
            {
                long n = Math.Min(100, count - i);
                frechet.Update(real01.narrow(0, i, n), fake01.narrow(0, i, n));
            }
            fd = frechet.Compute();
            label = frechet.Label;
        }
        JudgeAgreement? judge = null;
        if (benchmarkMetadata is not null)
        {
            log?.Invoke($"judge agreement on reconstructed ground-truth scenes of {Path.GetFileName(Path.GetDirectoryName(benchmarkMetadata))}");
            judge = JudgeAgreementOf(ae, benchmarkMetadata, ShapesBenchmark.ImagesPerPrompt);
        }
        return new ReconReport(modelName, count, size, psnr, ssim, ssim2, label, fd, judge, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// For every metadata line and seeds 0..n−1: render the ground-truth scene at the AE's image size, reconstruct it,
    /// judge both with the exact detector; agreement = the verdicts (correct / not) are equal.
    /// </summary>
    public static JudgeAgreement JudgeAgreementOf(LatentAutoencoder ae, string metadataPath, int seedsPerPrompt)
    {
        var lines = GenEvalMetadata.ReadFile(metadataPath);
        var generator = new ShapesGroundTruthGenerator(ae.Config.ImageSize);
        var detector = new ShapesDetector();
        var items = lines.SelectMany(l => Enumerable.Range(0, seedsPerPrompt).Select(s => (l.Metadata, Seed: (long)s))).ToList();
        int agree = 0, gtOk = 0, recOk = 0;
        var perTag = new Dictionary<string, (int Agree, int Total)>();
        var disagreements = new List<JudgeDisagreement>();
        for (int i = 0; i < items.Count; i += 32)
        {
            using var scope = NewDisposeScope();
            var chunk = items.Skip(i).Take(32).ToList();
            var gts = chunk.Select(c => generator.Generate(c.Metadata, c.Seed)).ToList();
            var batch = stack(gts.Select(ShapesRenderer.ToTensor).ToArray());
            var rec = Reconstruct(ae, batch);
            for (int k = 0; k < chunk.Count; k++)
            {
                var recImage = ToRgbImage(rec[k]);
                var gtVerdict = GenEvalScorer.Judge(chunk[k].Metadata, detector.Detect(gts[k]));
                var recVerdict = GenEvalScorer.Judge(chunk[k].Metadata, detector.Detect(recImage));
                bool a = gtVerdict.Correct, b = recVerdict.Correct;
                if (a) gtOk++;
                if (b) recOk++;
                if (a == b) agree++;
                else disagreements.Add(new JudgeDisagreement(chunk[k].Metadata.Prompt, chunk[k].Metadata.Tag, chunk[k].Seed,
                    a ? "" : gtVerdict.Reason, b ? "" : recVerdict.Reason));
                var tag = chunk[k].Metadata.Tag;
                var (ta, tt) = perTag.GetValueOrDefault(tag);
                perTag[tag] = (ta + (a == b ? 1 : 0), tt + 1);
            }
        }
        var per = GenEvalMetadata.Tags.Where(perTag.ContainsKey).ToDictionary(t => t, t => (double)perTag[t].Agree / perTag[t].Total);
        return new JudgeAgreement(items.Count, agree, gtOk, recOk, per) { Disagreements = disagreements };
    }

    /// <summary>[3,H,W] in [−1,1] → an RGB image (rounded, clamped).</summary>
    public static RgbImage ToRgbImage(Tensor image) =>
        new((int)image.shape[2], (int)image.shape[1], ImageTensor.ToRgbBytes(image));
}
