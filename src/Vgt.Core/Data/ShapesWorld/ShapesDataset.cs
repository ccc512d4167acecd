using Vgt.Config;
using Vgt.Evaluation;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Data.ShapesWorld;

public enum ShapesSplit { Train, Validation, Test }

/// <summary>
/// Options of the streaming Shapes World dataset. The split of a scene is a fixed function of its scene seed
/// (hash with <see cref="ShapesDataset.SplitSeed"/>): <see cref="ValidationFraction"/> and <see cref="TestFraction"/>
/// of all scene seeds go to validation and test, the rest to train. <see cref="CategoryWeights"/> (GenEval tags →
/// non-negative weights; missing tags weigh 0) sets the proportions of the six categories; null = uniform.
/// </summary>
public sealed record ShapesDatasetOptions(
    ShapesSplit Split = ShapesSplit.Train,
    int ImageSize = 64,
    IReadOnlyDictionary<string, double>? CategoryWeights = null,
    long FirstSceneSeed = 0,
    double ValidationFraction = 0.05,
    double TestFraction = 0.05) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(ImageSize is >= 16 and <= 4096, "image_size", $"must be within 16..4096, got {ImageSize}");
        ConfigValidationException.Require(FirstSceneSeed >= 0, "first_scene_seed", $"must be ≥ 0, got {FirstSceneSeed}");
        ConfigValidationException.Require(ValidationFraction is >= 0 and < 1, "validation_fraction", $"must be in [0, 1), got {ValidationFraction}");
        ConfigValidationException.Require(TestFraction is >= 0 and < 1, "test_fraction", $"must be in [0, 1), got {TestFraction}");
        ConfigValidationException.Require(ValidationFraction + TestFraction < 1, "test_fraction", "validation_fraction + test_fraction must be below 1");
        if (CategoryWeights is null) return;
        foreach (var (tag, w) in CategoryWeights)
        {
            ConfigValidationException.Require(ShapesVocabulary.Categories.Contains(tag), "category_weights",
                $"unknown category '{tag}'; expected one of: {string.Join(", ", ShapesVocabulary.Categories)}");
            ConfigValidationException.Require(double.IsFinite(w) && w >= 0, "category_weights", $"weight of '{tag}' must be a finite number ≥ 0, got {w}");
        }
        ConfigValidationException.Require(CategoryWeights.Values.Sum() > 0, "category_weights", "at least one weight must be positive");
    }
}

/// <summary>One training example rendered on the fly: the scene, its image and its text side.</summary>
public sealed record ShapesSample(long SceneSeed, ShapesScene Scene, RgbImage Image, string MetadataLine, string Caption, IReadOnlyList<QaPair> Qa)
{
    public string Tag => Scene.Prompt.Tag;
    public string Prompt => Scene.Prompt.Text;

    /// <summary>The image as a new float tensor [3, H, W] in [−1, 1] (the caller owns it).</summary>
    public Tensor ImageTensor() => ShapesRenderer.ToTensor(Image);
}

/// <summary>A batch: images stacked to [B, 3, H, W] in [−1, 1] (the caller owns the tensor) and the samples.</summary>
public sealed record ShapesBatch(Tensor Images, IReadOnlyList<ShapesSample> Samples) : IDisposable
{
    public void Dispose() => Images.Dispose();
}

/// <summary>
/// A streaming Shapes World dataset that renders on the fly: scene seeds FirstSceneSeed, FirstSceneSeed+1, … are
/// visited in order and those of the requested split are yielded. A scene depends only on its seed (and the category
/// weights), so every example can be reproduced on its own with <see cref="Get"/>. The stream is endless.
/// </summary>
public sealed class ShapesDataset(ShapesDatasetOptions options)
{
    /// <summary>The fixed seed of the train/validation/test assignment of scene seeds.</summary>
    public const long SplitSeed = 20251130;

    static readonly VgtSeed SplitHash = new(SplitSeed);

    public ShapesDatasetOptions Options { get; } = Validated(options);

    static ShapesDatasetOptions Validated(ShapesDatasetOptions o)
    {
        o.Validate();
        return o;
    }

    /// <summary>The split of a scene seed (fixed for given fractions).</summary>
    public static ShapesSplit SplitOf(long sceneSeed, double validationFraction = 0.05, double testFraction = 0.05)
    {
        double u = (SplitHash.Derive($"split/{sceneSeed}") >> 10) / (double)(1L << 53); // uniform in [0, 1)
        if (u < testFraction) return ShapesSplit.Test;
        if (u < testFraction + validationFraction) return ShapesSplit.Validation;
        return ShapesSplit.Train;
    }

    public ShapesSplit SplitOf(long sceneSeed) => SplitOf(sceneSeed, Options.ValidationFraction, Options.TestFraction);

    /// <summary>The example of one scene seed (whatever its split).</summary>
    public ShapesSample Get(long sceneSeed)
    {
        var scene = ShapesSceneSampler.ForSceneSeed(sceneSeed, Options.CategoryWeights);
        var image = ShapesRenderer.Render(scene, Options.ImageSize);
        return new ShapesSample(sceneSeed, scene, image, scene.Prompt.Metadata.ToJsonLine(), ShapesText.Caption(scene), ShapesText.Questions(scene));
    }

    /// <summary>The endless stream of this split's examples, in scene-seed order.</summary>
    public IEnumerable<ShapesSample> Stream()
    {
        for (long seed = Options.FirstSceneSeed; seed < long.MaxValue; seed++)
            if (SplitOf(seed) == Options.Split) yield return Get(seed);
    }

    /// <summary>Consecutive batches of <paramref name="batchSize"/> examples from <see cref="Stream"/>.</summary>
    public IEnumerable<ShapesBatch> Batches(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentException($"Batch size must be ≥ 1, got {batchSize}.");
        var buffer = new List<ShapesSample>(batchSize);
        foreach (var sample in Stream())
        {
            buffer.Add(sample);
            if (buffer.Count < batchSize) continue;
            yield return Stack(buffer);
            buffer = new List<ShapesSample>(batchSize);
        }
    }

    static ShapesBatch Stack(List<ShapesSample> samples)
    {
        using var scope = NewDisposeScope();
        var images = stack(samples.Select(s => s.ImageTensor()).ToArray()); // [B, 3, H, W]
        return new ShapesBatch(images.MoveToOuterDisposeScope(), samples);
    }
}
