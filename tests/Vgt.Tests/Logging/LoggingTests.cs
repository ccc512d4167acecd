using Vgt.Logging;

namespace Vgt.Tests.Logging;

public class LoggingTests
{
    [Fact]
    public void ProgressLineHasStepTotalRateAndEta()
    {
        var line = PlainProgressFactory.FormatLine("train", 50, 200, TimeSpan.FromSeconds(10), "loss=0.5");
        Assert.Equal("train: 50/200 (25.0%) 5.00 it/s ETA 00:00:30 loss=0.5", line);
        Assert.Equal("gen: 1/10 (10.0%) 4.00 s/it ETA 00:00:36", PlainProgressFactory.FormatLine("gen", 1, 10, TimeSpan.FromSeconds(4), null));
    }

    [Fact]
    public void PlainProgressPrintsFinalLine()
    {
        var w = new StringWriter();
        using (var p = new PlainProgressFactory(w, TimeSpan.FromHours(1)).Start("steps", 3))
        {
            p.Advance();
            p.Advance();
            p.Advance(1, "done");
        }
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("steps: 1/3", lines[0]); // first report always prints
        Assert.StartsWith("steps: 3/3 (100.0%)", lines[^1]);
        Assert.EndsWith("done", lines[^1].TrimEnd());
    }

    [Fact]
    public void MetricsAreAppendedAsJsonLines()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("vgt-metrics-").FullName, "m.jsonl");
        using (var m = new MetricsLog(path)) m.Write(new Dictionary<string, object?> { ["step"] = 1, ["loss"] = 0.25 });
        using (var m = new MetricsLog(path)) m.Write(new Dictionary<string, object?> { ["step"] = 2, ["loss"] = double.NaN });
        var rows = MetricsLog.ReadAll(path);
        Assert.Equal(2, rows.Count);
        Assert.Equal(0.25, rows[0]["loss"].GetDouble());
        Assert.Equal(2, rows[1]["step"].GetInt32());
        Assert.True(rows[1].ContainsKey("time"));
    }
}
