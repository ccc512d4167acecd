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
    public void ItReadsShapesColoursAndCountsOfHeldOutScenes()
    {
        // The first 120 items of the fixed held-out set of `vgt eval vlm` plus 20 captions. The shipped model scores
        // 0.99–1.00 on count/colour/shape and 0.80 on captions over the full set (models/shapes-vlm/README.md); relations
        // are at the prior and are not asserted. The bounds leave room for a retrained model, not for a blind one
        // (the shape-blind models before the vision warm-up scored 0.30 on shape and 0.11 on captions).
        using var model = Vgt.Models.InternVl.InternVlChatModel.Load(ModelDir);
        var report = VlmEvaluation.Run(model, new VlmEvalOptions(Questions: 120, Captions: 20));
        double Accuracy(string task) => report.PerTask[task] is var (c, t) && t > 0 ? (double)c / t : double.NaN;
        Assert.True(report.PerTask["Shape"].Total >= 10);
        Assert.True(Accuracy("Shape") >= 0.9, $"shape {Accuracy("Shape")}");
        Assert.True(Accuracy("Color") >= 0.9, $"color {Accuracy("Color")}");
        Assert.True(Accuracy("Count") >= 0.9, $"count {Accuracy("Count")}");
        Assert.True(report.CaptionAccuracy >= 0.6, $"captions {report.CaptionAccuracy}");
    }
}
