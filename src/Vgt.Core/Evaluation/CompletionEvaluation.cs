using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vgt.Logging;

namespace Vgt.Evaluation;

/// <summary>Judge scores of completed scenes for one known-token count.</summary>
public sealed record CompletionRow(int KnownTokens, int Images, double Overall, IReadOnlyDictionary<string, double> PerCategory);

/// <summary>What `vgt eval completion` reports.</summary>
public sealed record CompletionReport(string Model, string MetadataSha256, int Tokens, int SeedsPerPrompt, IReadOnlyList<CompletionRow> Rows, double Seconds)
{
    public string ToTable()
    {
        var sb = new StringBuilder();
        var tags = GenEvalMetadata.Tags;
        sb.AppendLine(CultureInfo.InvariantCulture, $"completion of ground-truth benchmark scenes, {Model}, {Tokens} latent positions, {SeedsPerPrompt} scene(s) per prompt, metadata sha256 {MetadataSha256[..12]}…");
        sb.AppendLine($"| known | sampled | overall | {string.Join(" | ", tags)} |");
        sb.AppendLine($"|---|---|---|{string.Concat(tags.Select(_ => "---|"))}");
        foreach (var r in Rows)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.KnownTokens} | {Tokens - r.KnownTokens} | {r.Overall:F3} | {string.Join(" | ", tags.Select(t => r.PerCategory.TryGetValue(t, out var v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "–"))} |");
        sb.Append(CultureInfo.InvariantCulture, $"time {Seconds:F1} s");
        return sb.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);
}

/// <summary>
/// How precise a generator's per-token conditionals are, separately from how its free-running rollout goes: each
/// benchmark scene is rendered exactly, encoded, a random subset of its latent tokens is kept and the model samples
/// the others; the exact judge scores the decoded result against the prompt's metadata. With every token known the
/// score is the AE's reconstruction agreement; with none it is plain generation; in between it shows how much of a
/// scene the model can fill in without breaking its objects.
/// </summary>
public static class CompletionEvaluation
{
    public static CompletionReport Run(IImageCompleter completer, IImageGenerator groundTruth, string metadataPath,
        IReadOnlyList<int> knownCounts, int seedsPerPrompt, int size, IProgressFactory? progress = null)
    {
        int tokens = completer.TokensFor(size);
        if (knownCounts.Count == 0) throw new ArgumentException("give at least one known-token count");
        foreach (int k in knownCounts)
            if (k < 0 || k > tokens) throw new ArgumentOutOfRangeException(nameof(knownCounts), k, $"known-token counts must be in [0, {tokens}] (the latent positions of a {size} px image)");
        if (seedsPerPrompt < 1) throw new ArgumentOutOfRangeException(nameof(seedsPerPrompt), seedsPerPrompt, "at least one scene per prompt is needed");
        var lines = GenEvalMetadata.ReadFile(metadataPath);
        for (int i = 0; i < lines.Count; i++) groundTruth.Check(lines[i].Metadata, $"{metadataPath}:{lines[i].LineNumber}");
        var detector = new ShapesDetector();
        var clock = Stopwatch.StartNew();
        var rows = new List<CompletionRow>();
        using var bar = (progress ?? NullProgress.Instance).Start("completion", (long)knownCounts.Count * lines.Count * seedsPerPrompt);
        foreach (int known in knownCounts)
        {
            var correct = new Dictionary<string, (int Good, int All)>();
            foreach (var (metadata, _, _) in lines)
                for (long seed = 0; seed < seedsPerPrompt; seed++)
                {
                    var reference = groundTruth.Generate(metadata, seed);
                    var image = completer.Complete(metadata, reference, known, seed);
                    bool ok = GenEvalScorer.Judge(metadata, detector.Detect(image)).Correct;
                    var (good, all) = correct.GetValueOrDefault(metadata.Tag);
                    correct[metadata.Tag] = (good + (ok ? 1 : 0), all + 1);
                    bar.Advance(1, $"known {known}");
                }
            var perCategory = GenEvalMetadata.Tags.Where(correct.ContainsKey).ToDictionary(t => t, t => (double)correct[t].Good / correct[t].All);
            rows.Add(new CompletionRow(known, correct.Values.Sum(v => v.All), perCategory.Values.Average(), perCategory));
        }
        return new CompletionReport(completer.Name, GenEvalLayout.Sha256OfFile(metadataPath), tokens, seedsPerPrompt, rows, clock.Elapsed.TotalSeconds);
    }
}
