using System.Text.Json;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

/// <summary>GenEval folder layout: all-or-nothing writing, scoring, unreadable images, malformed metadata, CLI.</summary>
public class LayoutTests
{
    /// <summary>The first benchmark prompt of each category.</summary>
    static string WriteSmallMetadata(string dir)
    {
        var path = Path.Combine(dir, "meta.jsonl");
        var prompts = ShapesVocabulary.Categories.Select(t => ShapesBenchmark.PromptsV1().First(p => p.Tag == t));
        File.WriteAllText(path, string.Concat(prompts.Select(p => p.Metadata.ToJsonLine() + "\n")));
        return path;
    }

    [Fact]
    public void GroundTruthFolderScoresPerfectAndUnreadableImagesCountAsIncorrect()
    {
        var dir = ShapesTestUtil.TempDir();
        var meta = WriteSmallMetadata(dir);
        var run = Path.Combine(dir, "run");
        GenEvalLayout.Write(meta, run, new ShapesGroundTruthGenerator(), imagesPerPrompt: 2, seed: 0);
        Assert.Equal(["00000", "00001", "00002", "00003", "00004", "00005"], Directory.GetDirectories(run).Select(Path.GetFileName).Order());
        Assert.Equal(File.ReadAllLines(meta)[2] + "\n", File.ReadAllText(Path.Combine(run, "00002", "metadata.jsonl")));
        Assert.Equal(["0000.png", "0001.png"], Directory.GetFiles(Path.Combine(run, "00004", "samples")).Select(Path.GetFileName).Order());
        Assert.Equal(File.ReadAllBytes(meta), File.ReadAllBytes(Path.Combine(run, GenEvalLayout.MetadataCopyName)));
        Assert.Empty(Directory.GetDirectories(dir, ".run.*"));   // no staging folder left

        var report = GenEvalLayout.Score(run, new ShapesDetector());
        Assert.Equal((6, 2, 12, 12), (report.Prompts, report.ImagesPerPrompt, report.Images, report.Correct));
        Assert.All(report.Categories, c => Assert.Equal((2, 2), (c.Correct, c.Total)));
        Assert.Equal(1.0, report.Overall);
        Assert.Equal(GenEvalLayout.Sha256OfFile(meta), report.MetadataSha256);

        // Break three images: one missing, one garbage, one truncated.
        var missing = Path.Combine(run, "00000", "samples", "0001.png");
        var garbage = Path.Combine(run, "00003", "samples", "0000.png");
        var truncated = Path.Combine(run, "00005", "samples", "0001.png");
        File.Delete(missing);
        File.WriteAllText(garbage, "not a png");
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        report = GenEvalLayout.Score(run, new ShapesDetector());
        Assert.Equal((12, 9), (report.Images, report.Correct));
        Assert.Equal([missing, garbage, truncated], report.Unreadable.Select(p => p.Path));
        Assert.Equal("missing", report.Unreadable[0].Problem);
        Assert.Contains("not a readable image", report.Unreadable[1].Problem);
        Assert.Contains("corrupt or truncated", report.Unreadable[2].Problem);
        Assert.Equal((1, 2), (report.Categories[0].Correct, report.Categories[0].Total));
        Assert.Equal((1.0 / 2 + 1 + 1 + 1.0 / 2 + 1 + 1.0 / 2) / 6, report.Overall, 12);
        Assert.Contains($"unreadable: {missing}: missing", report.ToText());

        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(0.75, json.RootElement.GetProperty("overall").GetDouble(), 12);
        Assert.Equal(0.5, json.RootElement.GetProperty("categories").GetProperty("single_object").GetProperty("score").GetDouble());
        Assert.Equal(3, json.RootElement.GetProperty("unreadable").GetArrayLength());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void MalformedPromptMetadataInAFolderNamesFileAndLine()
    {
        var dir = ShapesTestUtil.TempDir();
        var run = Path.Combine(dir, "run");
        GenEvalLayout.Write(WriteSmallMetadata(dir), run, new ShapesGroundTruthGenerator(), 1, 0);
        var bad = Path.Combine(run, "00003", "metadata.jsonl");
        File.WriteAllText(bad, "{\"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": 0}], \"prompt\": \"a photo of a circle\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => GenEvalLayout.Score(run, new ShapesDetector()));
        Assert.StartsWith($"{bad}:1: malformed GenEval metadata: include[0].count must be a positive integer", e.Message);

        File.WriteAllText(bad, "{\"tag\": \"colors\", \"include\": [{\"class\": \"dog\", \"count\": 1}], \"prompt\": \"a photo of a dog\"}\n");
        e = Assert.Throws<InvalidDataException>(() => GenEvalLayout.Score(run, new ShapesDetector()));
        Assert.StartsWith($"{bad}:1: class 'dog' is not one the detector", e.Message);

        File.Delete(bad);
        e = Assert.Throws<InvalidDataException>(() => GenEvalLayout.Score(run, new ShapesDetector()));
        Assert.StartsWith($"{bad}: missing", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void NothingIsWrittenWhenAMetadataLineIsBad()
    {
        var dir = ShapesTestUtil.TempDir();
        var meta = WriteSmallMetadata(dir);
        var lines = File.ReadAllLines(meta);
        lines[2] = lines[2].Replace("\"count\": 2", "\"count\": two");
        File.WriteAllLines(meta, lines);
        var run = Path.Combine(dir, "run");
        var e = Assert.Throws<InvalidDataException>(() => GenEvalLayout.Write(meta, run, new ShapesGroundTruthGenerator(), 1, 0));
        Assert.StartsWith($"{meta}:3: not valid JSON", e.Message);
        Assert.False(Directory.Exists(run));

        lines = WriteSmallMetadata(dir) is var p ? File.ReadAllLines(p) : [];
        lines[4] = lines[4].Replace("a photo of a circle left of a square", "a photo of a circle right of a square");
        File.WriteAllLines(meta, lines);
        e = Assert.Throws<InvalidDataException>(() => GenEvalLayout.Write(meta, run, new ShapesGroundTruthGenerator(), 1, 0));
        Assert.StartsWith($"{meta}:5: the metadata does not match its prompt 'a photo of a circle right of a square'", e.Message);
        Assert.False(Directory.Exists(run));
        Assert.Equal(["meta.jsonl"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ANonEmptyOutputFolderIsRefused()
    {
        var dir = ShapesTestUtil.TempDir();
        var meta = WriteSmallMetadata(dir);
        var run = Path.Combine(dir, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "keep.txt"), "x");
        var e = Assert.Throws<ArgumentException>(() => GenEvalLayout.Write(meta, run, new ShapesGroundTruthGenerator(), 1, 0));
        Assert.Contains("already exists and is not empty", e.Message);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(run).Select(Path.GetFileName));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void CliGeneratesScoresAndRefusesWithoutAGenerator()
    {
        var dir = ShapesTestUtil.TempDir();
        var meta = WriteSmallMetadata(dir);
        var run = Path.Combine(dir, "run");
        Assert.Equal(2, Vgt.Cli.Program.Run(["bench", "geneval", "--metadata", meta, "--out", run]));
        Assert.False(Directory.Exists(run));
        Assert.Equal(0, Vgt.Cli.Program.Run(["bench", "geneval", "--metadata", meta, "--out", run, "--images-per-prompt", "1", "--ground-truth"]));
        var jsonPath = Path.Combine(dir, "scores.json");
        Assert.Equal(0, Vgt.Cli.Program.Run(["bench", "score", run, "--json", jsonPath]));
        using var json = JsonDocument.Parse(File.ReadAllText(jsonPath));
        Assert.Equal(1.0, json.RootElement.GetProperty("overall").GetDouble());
        Assert.Equal(6, json.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(GenEvalLayout.Sha256OfFile(meta), json.RootElement.GetProperty("metadata_sha256").GetString());

        var png = Path.Combine(dir, "one.png");
        Assert.Equal(0, Vgt.Cli.Program.Run(["shapes", "render", "--prompt", "a photo of a circle above a square", "-o", png, "--seed", "5"]));
        var found = new ShapesDetector().Detect(RgbImageFiles.Load(png));
        Assert.Equal(["circle", "square"], found.Select(o => o.Class).Order());
        Assert.Equal(2, Vgt.Cli.Program.Run(["shapes", "render", "--prompt", "a photo of a dog", "-o", png]));
        Assert.Equal(0, Vgt.Cli.Program.Run(["shapes", "detect", png]));
        Directory.Delete(dir, true);
    }
}
