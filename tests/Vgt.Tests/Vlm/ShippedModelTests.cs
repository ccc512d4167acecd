using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;
using Vgt.Models.InternVl;
using Vgt.Pipelines;

namespace Vgt.Tests.Vlm;

/// <summary>The committed models/shapes-vlm answers rendered held-out (test-split) scenes.</summary>
public class ShippedModelTests
{
    static string ModelDir => VlmTrainingTests.RepoFile("models", "shapes-vlm");

    [Fact]
    public void TheModelDirectoryHasEverythingAndLoadsCompletely()
    {
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "README.md" })
            Assert.True(File.Exists(Path.Combine(ModelDir, f)), f);
        Assert.True(new FileInfo(Path.Combine(ModelDir, "model.safetensors")).Length < 20L << 20);
        using var chat = InternVlChatModel.Load(ModelDir);
        Assert.Empty(chat.LoadReport!.Unexpected);
        Assert.Empty(chat.LoadReport.Mismatched);
        Assert.Equal(64, chat.TokensPerImage);
    }

    [Fact]
    public void ItReadsShapesColoursCountsAndRelationsOfHeldOutScenes()
    {
        // The first 120 items of the fixed held-out set of `vgt eval vlm` plus 20 captions (31 of the 120 are relation
        // questions). Over the full set the shipped model scores 0.97–1.00 on every question task and 0.92 on captions
        // (models/shapes-vlm/README.md); on this subset it answers all 120 questions and 18 of the 20 captions. The bounds
        // leave room for a retrained model, not for a blind one (the shape-blind models before the vision warm-up scored
        // 0.30 on shape and 0.11 on captions) nor for one that answers relations from the prior (0.65).
        using var model = Vgt.Models.InternVl.InternVlChatModel.Load(ModelDir);
        var report = VlmEvaluation.Run(model, new VlmEvalOptions(Questions: 120, Captions: 20));
        double Accuracy(string task) => report.PerTask[task] is var (c, t) && t > 0 ? (double)c / t : double.NaN;
        Assert.True(report.PerTask["Shape"].Total >= 10);
        Assert.True(report.PerTask["Relation"].Total >= 20);
        Assert.True(Accuracy("Shape") >= 0.9, $"shape {Accuracy("Shape")}");
        Assert.True(Accuracy("Color") >= 0.9, $"color {Accuracy("Color")}");
        Assert.True(Accuracy("Count") >= 0.9, $"count {Accuracy("Count")}");
        Assert.True(Accuracy("Relation") >= 0.9, $"relation {Accuracy("Relation")}");
        Assert.True(report.CaptionAccuracy >= 0.7, $"captions {report.CaptionAccuracy}");
    }
}
