using Vgt.Data.ShapesWorld;
using Vgt.Models.InternVl;
using Vgt.Pipelines;

namespace Vgt.Tests.Vlm;

/// <summary>The committed models/shapes-vlm answers rendered held-out (test-split) scenes.</summary>
public class ShippedModelTests
{
    static string ModelDir => VlmTrainingTests.RepoFile("models", "shapes-vlm");

    // (test-split scene seed, question, expected answer), from the fixed held-out set of `vgt eval vlm`
    public static readonly TheoryData<long, string, string> Cases = new()
    {
        { 39, "how many circles are there?", "zero" },
        { 105, "is the triangle below the diamond?", "no" },
        { 109, "what shape is the green object?", "square" },
        { 299, "what color is the circle?", "orange" },
        { 488, "what color is the circle?", "blue" },
        { 530, "what shape is the orange object?", "triangle" },
        { 20744, "describe the image.", "a purple diamond" },
    };

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
    public void ItAnswersRenderedHeldOutScenes()
    {
        var dataset = new ShapesDataset(new ShapesDatasetOptions(ShapesSplit.Test));
        using var pipeline = UnderstandingPipeline.Load(ModelDir);
        var requests = Cases.Select(c => (Seed: (long)c[0], Question: (string)c[1], Expected: (string)c[2])).ToList();
        Assert.All(requests, r => Assert.Equal(ShapesSplit.Test, ShapesDataset.SplitOf(r.Seed)));
        var answers = pipeline.Model.Generate(requests.Select(r => new ChatRequest(r.Question, [dataset.Get(r.Seed).ImageTensor()])).ToList(),
            GenerationOptions.Greedy(48));
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(requests[i].Expected, answers[i].Text.Trim());
            Assert.Equal(GenerationStop.StopToken, answers[i].Stop);
        }
    }
}
