using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

public sealed class CompletionEvaluationTests
{
    static string Metadata()
    {
        // one line per category from the committed benchmark: small and covers every tag
        var lines = File.ReadAllLines(Path.Combine(ShapesTestUtil.RepoRoot(), "benchmarks", "shapes-geneval-v1", "evaluation_metadata.jsonl"));
        var picked = GenEvalMetadata.Tags.Select(t => lines.First(l => l.Contains($"\"{t}\""))).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"completion-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, picked);
        return path;
    }

    /// <summary>Returns the reference when at least <c>threshold</c> tokens are given, else a blank canvas.</summary>
    sealed class ThresholdCompleter(int threshold) : IImageCompleter
    {
        public List<int> Calls { get; } = [];
        public string Name => "threshold";
        public int TokensFor(int size) => (size / 8) * (size / 8);
        public RgbImage Complete(GenEvalMetadata metadata, RgbImage reference, int knownTokens, long seed)
        {
            Calls.Add(knownTokens);
            return knownTokens >= threshold ? reference : new RgbImage(reference.Width, reference.Height, Enumerable.Repeat((byte)220, reference.Pixels.Length).ToArray());
        }
    }

    [Fact]
    public void ScoresEachKnownCountPerCategory()
    {
        var path = Metadata();
        try
        {
            var completer = new ThresholdCompleter(48);
            var report = CompletionEvaluation.Run(completer, new ShapesGroundTruthGenerator(), path, [0, 64], 2, 64);
            Assert.Equal(64, report.Tokens);
            Assert.Equal(2 * 6 * 2, completer.Calls.Count);
            Assert.Equal((0, 12, 0.0), (report.Rows[0].KnownTokens, report.Rows[0].Images, report.Rows[0].Overall));
            Assert.Equal((64, 12, 1.0), (report.Rows[1].KnownTokens, report.Rows[1].Images, report.Rows[1].Overall));
            Assert.Equal(GenEvalMetadata.Tags, report.Rows[1].PerCategory.Keys.ToArray());
            Assert.Contains("| 64 | 0 | 1.000 |", report.ToTable());
            Assert.Contains("\"known_tokens\": 0", report.ToJson());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void CountsOutsideTheGridAreRefused()
    {
        var path = Metadata();
        try
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => CompletionEvaluation.Run(new ThresholdCompleter(0), new ShapesGroundTruthGenerator(), path, [65], 1, 64));
            Assert.Contains("[0, 64]", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => CompletionEvaluation.Run(new ThresholdCompleter(0), new ShapesGroundTruthGenerator(), path, [0], 0, 64));
        }
        finally { File.Delete(path); }
    }
}
