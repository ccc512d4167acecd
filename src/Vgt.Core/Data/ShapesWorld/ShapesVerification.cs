using System.Globalization;
using System.Text;
using Vgt.Evaluation;
using Vgt.Logging;
using Vgt.Runtime;

namespace Vgt.Data.ShapesWorld;

/// <summary>One condition of a ground-truth check: per-category counts and the first failures.</summary>
public sealed record VerificationCondition(string Name, IReadOnlyList<CategoryScore> Categories, IReadOnlyList<string> FirstFailures)
{
    public int Correct => Categories.Sum(c => c.Correct);
    public int Total => Categories.Sum(c => c.Total);
    public double Accuracy => Total == 0 ? 0 : Correct / (double)Total;
}

/// <summary>
/// "Ground truth passes" (spec §9): renders n scenes (category i mod 6, prompt and scene from the stream
/// "verify/i" of the seed), judges each with the exact detector after a PNG round trip, and optionally after JPEG
/// quality 75, Gaussian blur σ = 0.7 px and Gaussian noise σ = 4/255 (robustness, not a pass/fail gate).
/// </summary>
public static class ShapesVerification
{
    public const int JpegQuality = 75;
    public const double BlurSigma = 0.7, NoiseSigma255 = 4;

    public static IReadOnlyList<VerificationCondition> Run(int scenes, long seed, bool perturbations, IProgressFactory? progress = null)
    {
        if (scenes < 1) throw new ArgumentException($"--n must be ≥ 1, got {scenes}.");
        var names = perturbations
            ? new[] { "png (ground truth)", $"jpeg q{JpegQuality}", $"gaussian blur sigma {BlurSigma.ToString(CultureInfo.InvariantCulture)} px", $"gaussian noise sigma {NoiseSigma255.ToString(CultureInfo.InvariantCulture)}/255" }
            : new[] { "png (ground truth)" };
        var counts = names.Select(_ => new Dictionary<string, (int Correct, int Total)>()).ToArray();
        var failures = names.Select(_ => new List<string>()).ToArray();
        var detector = new ShapesDetector();
        var root = new VgtSeed(seed);
        using var bar = (progress ?? NullProgress.Instance).Start("verify", scenes);
        for (int i = 0; i < scenes; i++)
        {
            string tag = ShapesVocabulary.Categories[i % ShapesVocabulary.Categories.Count];
            var rng = root.DotNetRandom($"verify/{i}");
            var prompt = ShapesSceneSampler.SamplePrompt(tag, rng);
            var scene = ShapesSceneSampler.Sample(prompt, rng);
            var image = RgbImageFiles.Decode(RgbImageFiles.Encode(ShapesRenderer.Render(scene), SkiaSharp.SKEncodedImageFormat.Png, 100));
            for (int c = 0; c < names.Length; c++)
            {
                var seen = c switch
                {
                    0 => image,
                    1 => ImagePerturbations.Jpeg(image, JpegQuality),
                    2 => ImagePerturbations.GaussianBlur(image, BlurSigma),
                    _ => ImagePerturbations.GaussianNoise(image, NoiseSigma255, root.DotNetRandom($"verify-noise/{i}")),
                };
                var verdict = GenEvalScorer.Judge(prompt.Metadata, detector.Detect(seen));
                var old = counts[c].GetValueOrDefault(tag);
                counts[c][tag] = (old.Correct + (verdict.Correct ? 1 : 0), old.Total + 1);
                if (!verdict.Correct && failures[c].Count < 10) failures[c].Add($"scene {i} \"{prompt.Text}\": {verdict.Reason}");
            }
            bar.Advance();
        }
        return names.Select((n, c) => new VerificationCondition(n,
            ShapesVocabulary.Categories.Where(counts[c].ContainsKey).Select(t => new CategoryScore(t, counts[c][t].Correct, counts[c][t].Total)).ToList(),
            failures[c])).ToList();
    }

    /// <summary>A Markdown table: one row per condition, one column per category, plus the total accuracy.</summary>
    public static string ToMarkdown(IReadOnlyList<VerificationCondition> conditions)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("| condition | " + string.Join(" | ", ShapesVocabulary.Categories) + " | all |");
        sb.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", ShapesVocabulary.Categories.Count + 1)));
        foreach (var c in conditions)
        {
            var cells = ShapesVocabulary.Categories.Select(t => c.Categories.FirstOrDefault(s => s.Tag == t) is { } s
                ? string.Format(inv, "{0:0.00}% ({1}/{2})", 100 * s.Score, s.Correct, s.Total) : "–");
            sb.AppendLine($"| {c.Name} | {string.Join(" | ", cells)} | {string.Format(inv, "{0:0.00}% ({1}/{2})", 100 * c.Accuracy, c.Correct, c.Total)} |");
        }
        return sb.ToString();
    }
}
