using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

public class BenchmarkTests
{
    const string Sha256V1 = "dabadeb3ec45066b7aa606919bb87140633401a9c47027d58d70dbdc368a39b6";

    static string CommittedPath => Path.Combine(ShapesTestUtil.RepoRoot(), "benchmarks", "shapes-geneval-v1", "evaluation_metadata.jsonl");

    [Fact]
    public void CommittedFileIsTheGeneratedBenchmark()
    {
        Assert.Equal(ShapesBenchmark.MetadataFileV1(), File.ReadAllText(CommittedPath));
        Assert.Equal(Sha256V1, GenEvalLayout.Sha256OfFile(CommittedPath));
    }

    [Fact]
    public void DocsQuoteTheBenchmarkHash() =>
        Assert.Contains(Sha256V1, File.ReadAllText(Path.Combine(ShapesTestUtil.RepoRoot(), "docs", "shapes-world.md")));

    [Fact]
    public void BenchmarkHasSpecEightCounts()
    {
        var lines = GenEvalMetadata.ReadFile(CommittedPath);
        Assert.Equal(208, lines.Count);
        Assert.Equal([("single_object", 4), ("two_object", 12), ("counting", 12), ("colors", 32), ("position", 48), ("color_attr", 100)],
            lines.GroupBy(l => l.Metadata.Tag).Select(g => (g.Key, g.Count())));
        Assert.Equal(208, lines.Select(l => l.Metadata.Prompt).Distinct().Count());
        foreach (var (m, _, n) in lines) ShapesPrompt.FromMetadata(m, $"line {n}"); // every line is canonical
        Assert.Equal("{\"tag\": \"position\", \"include\": [{\"class\": \"square\", \"count\": 1}, {\"class\": \"circle\", \"count\": 1, \"position\": [\"left of\", 0]}], \"prompt\": \"a photo of a circle left of a square\"}",
            lines[60].Line);
    }
}
