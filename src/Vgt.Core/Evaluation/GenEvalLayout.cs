using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Vgt.IO;
using Vgt.Logging;
using Vgt.Runtime;

namespace Vgt.Evaluation;

/// <summary>One category's score: the fraction of its images judged correct.</summary>
public sealed record CategoryScore(string Tag, int Correct, int Total)
{
    public double Score => Total == 0 ? 0 : Correct / (double)Total;
}

/// <summary>An image that could not be scored (missing, empty, corrupt); it counts as incorrect.</summary>
public sealed record ImageProblem(string Path, string Problem);

/// <summary>An image judged incorrect, with the first failing clause.</summary>
public sealed record ImageFailure(string Path, string Prompt, string Reason);

/// <summary>The result of scoring a GenEval-layout folder.</summary>
public sealed record GenEvalReport(
    string Directory, string Detector, string MetadataSha256, string MetadataSource,
    int Prompts, int ImagesPerPrompt, IReadOnlyList<CategoryScore> Categories,
    int Images, int Correct, IReadOnlyList<ImageProblem> Unreadable, IReadOnlyList<ImageFailure> Failures)
{
    /// <summary>Unweighted mean of the category scores (GenEval's overall).</summary>
    public double Overall => Categories.Count == 0 ? 0 : Categories.Average(c => c.Score);

    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"GenEval scores for {Directory} (detector {Detector})");
        foreach (var c in Categories)
            sb.AppendLine(string.Format(inv, "  {0,-14} {1,7:0.0000}  ({2}/{3})", c.Tag, c.Score, c.Correct, c.Total));
        sb.AppendLine(string.Format(inv, "  {0,-14} {1,7:0.0000}  (unweighted mean of {2} categories)", "overall", Overall, Categories.Count));
        sb.AppendLine($"images: {Images} ({Prompts} prompts × {ImagesPerPrompt}), correct {Correct}, incorrect {Images - Correct}, unreadable or missing {Unreadable.Count}");
        foreach (var p in Unreadable.Take(20)) sb.AppendLine($"  unreadable: {p.Path}: {p.Problem}");
        if (Unreadable.Count > 20) sb.AppendLine($"  … and {Unreadable.Count - 20} more unreadable images");
        sb.Append($"metadata sha256: {MetadataSha256} ({MetadataSource})");
        return sb.ToString();
    }

    public string ToJson()
    {
        var doc = new Dictionary<string, object?>
        {
            ["directory"] = Directory,
            ["detector"] = Detector,
            ["metadata_sha256"] = MetadataSha256,
            ["metadata_source"] = MetadataSource,
            ["overall"] = Overall,
            ["categories"] = Categories.ToDictionary(c => c.Tag, c => new { score = c.Score, correct = c.Correct, total = c.Total }),
            ["prompts"] = Prompts,
            ["images_per_prompt"] = ImagesPerPrompt,
            ["images"] = Images,
            ["correct"] = Correct,
            ["unreadable"] = Unreadable.Select(p => new { path = p.Path, problem = p.Problem }).ToList(),
            ["failures"] = Failures.Select(f => new { path = f.Path, prompt = f.Prompt, reason = f.Reason }).ToList(),
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}

/// <summary>
/// GenEval's folder layout: <c>DIR/&lt;00000..&gt;/metadata.jsonl</c> (the prompt's metadata line) and
/// <c>DIR/&lt;index&gt;/samples/0000.png …</c>. Also <c>DIR/evaluation_metadata.jsonl</c>, a copy of the benchmark file
/// whose sha256 the score reports. Writing is all-or-nothing; scoring counts unreadable images as incorrect.
/// </summary>
public static class GenEvalLayout
{
    public const string MetadataCopyName = "evaluation_metadata.jsonl";

    /// <summary>
    /// Generates <paramref name="imagesPerPrompt"/> images (seeds seed, seed+1, …) for every line of the metadata file
    /// into <paramref name="outDir"/>. Every line is parsed and checked by the generator before anything is written;
    /// images are written into a staging folder beside <paramref name="outDir"/> that is renamed into place at the end.
    /// </summary>
    public static void Write(string metadataPath, string outDir, IImageGenerator generator, int imagesPerPrompt, long seed, IProgressFactory? progress = null)
    {
        if (imagesPerPrompt < 1) throw new ArgumentException($"--images-per-prompt must be ≥ 1, got {imagesPerPrompt}.");
        var lines = GenEvalMetadata.ReadFile(metadataPath);
        foreach (var (m, _, n) in lines) generator.Check(m, $"{metadataPath}:{n}");

        var target = Path.GetFullPath(outDir).TrimEnd(Path.DirectorySeparatorChar);
        if (File.Exists(target)) throw new ArgumentException($"Output path {target} is a file; give a folder that does not exist yet.");
        if (System.IO.Directory.Exists(target) && System.IO.Directory.EnumerateFileSystemEntries(target).Any())
            throw new ArgumentException($"Output folder {target} already exists and is not empty; choose a new folder (nothing was written).");
        AtomicDirectory.Write(target, staging =>
        {
            AtomicFile.WriteAllBytes(Path.Combine(staging, MetadataCopyName), File.ReadAllBytes(metadataPath));
            using var bar = (progress ?? NullProgress.Instance).Start($"generate ({generator.Name})", (long)lines.Count * imagesPerPrompt);
            for (int i = 0; i < lines.Count; i++)
            {
                var (m, line, _) = lines[i];
                var folder = Path.Combine(staging, i.ToString("D5", CultureInfo.InvariantCulture));
                AtomicFile.WriteAllText(Path.Combine(folder, "metadata.jsonl"), line + "\n");
                for (int j = 0; j < imagesPerPrompt; j++)
                {
                    var image = GcSafeRegion.Run(() => generator.Generate(m, seed + j));   // a crash here would lose the whole folder
                    RgbImageFiles.SavePng(image, Path.Combine(folder, "samples", j.ToString("D4", CultureInfo.InvariantCulture) + ".png"));
                    bar.Advance();
                }
            }
        });
    }

    /// <summary>
    /// Scores a GenEval-layout folder with <paramref name="detector"/>. All metadata is read and checked first
    /// (errors name the file and line). The expected number of images per prompt is <paramref name="imagesPerPrompt"/>
    /// or, when null, one more than the highest sample index found; every expected image that is missing or cannot be
    /// decoded is reported by path and counted as incorrect.
    /// </summary>
    public static GenEvalReport Score(string dir, IObjectDetector detector, int? imagesPerPrompt = null, IProgressFactory? progress = null)
    {
        var root = Path.GetFullPath(dir);
        if (!System.IO.Directory.Exists(root)) throw new DirectoryNotFoundException($"Folder not found: {root}");
        if (imagesPerPrompt is < 1) throw new ArgumentException($"--images-per-prompt must be ≥ 1, got {imagesPerPrompt}.");
        var folders = System.IO.Directory.GetDirectories(root)
            .Where(d => Path.GetFileName(d).All(char.IsAsciiDigit))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .ToList();
        if (folders.Count == 0) throw new InvalidDataException($"{root} has no prompt folders (00000, 00001, …): not a GenEval-layout folder.");

        // 1. Metadata of every prompt folder, checked against the detector's vocabulary.
        var prompts = new List<(string Folder, GenEvalMetadata Metadata, string Line, Dictionary<int, string> Samples)>();
        foreach (var folder in folders)
        {
            var (m, line) = ReadPromptMetadata(folder, detector);
            var samples = new Dictionary<int, string>();
            var sampleDir = Path.Combine(folder, "samples");
            if (System.IO.Directory.Exists(sampleDir))
                foreach (var f in System.IO.Directory.GetFiles(sampleDir, "*.png"))
                    if (int.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out int k))
                        samples[k] = f;
            prompts.Add((folder, m, line, samples));
        }
        int expected = imagesPerPrompt ?? prompts.Max(p => p.Samples.Count == 0 ? 0 : p.Samples.Keys.Max() + 1);
        if (expected == 0) throw new InvalidDataException($"{root}: no sample images (samples/0000.png, …) in any prompt folder.");

        // 2. Judge every image.
        var counts = new Dictionary<string, (int Correct, int Total)>();
        var unreadable = new List<ImageProblem>();
        var failures = new List<ImageFailure>();
        int images = 0, correct = 0;
        using var bar = (progress ?? NullProgress.Instance).Start($"score ({detector.Name})", (long)prompts.Count * expected);
        foreach (var (folder, m, _, samples) in prompts)
        {
            var indices = Enumerable.Range(0, expected).Union(samples.Keys).Order();
            foreach (int k in indices)
            {
                string path = samples.TryGetValue(k, out var p) ? p : Path.Combine(folder, "samples", k.ToString("D4", CultureInfo.InvariantCulture) + ".png");
                bool ok = false;
                if (!File.Exists(path)) unreadable.Add(new(path, "missing"));
                else
                {
                    try
                    {
                        var verdict = GenEvalScorer.Judge(m, detector.Detect(RgbImageFiles.Load(path)));
                        ok = verdict.Correct;
                        if (!ok) failures.Add(new(path, m.Prompt, verdict.Reason));
                    }
                    catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                    {
                        unreadable.Add(new(path, e.Message));
                    }
                }
                var c = counts.GetValueOrDefault(m.Tag);
                counts[m.Tag] = (c.Correct + (ok ? 1 : 0), c.Total + 1);
                images++;
                if (ok) correct++;
                bar.Advance();
            }
        }
        var categories = GenEvalMetadata.Tags.Where(counts.ContainsKey).Select(t => new CategoryScore(t, counts[t].Correct, counts[t].Total)).ToList();
        var (sha, source) = MetadataHash(root, prompts.Select(p => p.Line).ToList());
        return new GenEvalReport(root, detector.Name, sha, source, prompts.Count, expected, categories, images, correct, unreadable, failures);
    }

    static (GenEvalMetadata, string) ReadPromptMetadata(string folder, IObjectDetector detector)
    {
        var path = Path.Combine(folder, "metadata.jsonl");
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: missing (every prompt folder needs its metadata line).");
        var lines = File.ReadAllLines(path);
        var nonBlank = lines.Select((l, i) => (Text: l.Trim(), Number: i + 1)).Where(l => l.Text.Length > 0).ToList();
        if (nonBlank.Count != 1) throw new InvalidDataException($"{path}: expected exactly one metadata line, found {nonBlank.Count}.");
        var (text, number) = nonBlank[0];
        var m = GenEvalMetadata.ParseLine(text, path, number);
        foreach (var c in m.Include.Concat(m.Exclude ?? []))
        {
            if (!detector.Classes.Contains(c.Class))
                throw new InvalidDataException($"{path}:{number}: class '{c.Class}' is not one the detector {detector.Name} knows ({string.Join(", ", detector.Classes)}).");
            if (c.Color is not null && !detector.Colors.Contains(c.Color))
                throw new InvalidDataException($"{path}:{number}: colour '{c.Color}' is not one the detector {detector.Name} knows ({string.Join(", ", detector.Colors)}).");
        }
        return (m, text);
    }

    /// <summary>
    /// The sha256 of DIR/evaluation_metadata.jsonl when present and consistent with the prompt folders; otherwise of the
    /// prompt folders' lines joined with "\n" (equal to the benchmark file's hash when that file is canonical).
    /// </summary>
    static (string Sha, string Source) MetadataHash(string root, List<string> folderLines)
    {
        var copy = Path.Combine(root, MetadataCopyName);
        if (File.Exists(copy))
        {
            var bytes = File.ReadAllBytes(copy);
            var copyLines = Encoding.UTF8.GetString(bytes).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            if (copyLines.SequenceEqual(folderLines)) return (Sha256(bytes), copy);
            return (Sha256(bytes), $"{copy} — WARNING: its lines differ from the prompt folders' metadata");
        }
        var joined = Encoding.UTF8.GetBytes(string.Concat(folderLines.Select(l => l + "\n")));
        return (Sha256(joined), "prompt folders' metadata lines joined with newlines (no evaluation_metadata.jsonl in the folder)");
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256OfFile(string path) => Sha256(File.ReadAllBytes(path));
}
