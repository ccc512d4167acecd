using Vgt.Evaluation;

namespace Vgt.Data.ShapesWorld;

/// <summary>Renders the ground-truth scene of each Shapes World metadata line (scene keyed by prompt text and seed).</summary>
public sealed class ShapesGroundTruthGenerator(int size = ShapesVocabulary.CanvasSize) : IImageGenerator
{
    public string Name => "shapes-world-v1-ground-truth";

    public void Check(GenEvalMetadata metadata, string where) => ShapesPrompt.FromMetadata(metadata, where);

    public RgbImage Generate(GenEvalMetadata metadata, long seed) =>
        ShapesRenderer.Render(ShapesSceneSampler.ForPrompt(ShapesPrompt.FromMetadata(metadata), seed), size);
}
