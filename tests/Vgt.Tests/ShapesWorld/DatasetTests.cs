using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Imaging;
using static TorchSharp.torch;

namespace Vgt.Tests.ShapesWorld;

public class DatasetTests
{
    [Fact]
    public void ExamplesAreReproducibleFromTheirSceneSeed()
    {
        var ds = new ShapesDataset(new ShapesDatasetOptions());
        var a = ds.Get(4242);
        var b = new ShapesDataset(new ShapesDatasetOptions(Split: ShapesSplit.Test)).Get(4242);
        Assert.Equal(a.Image.Pixels, b.Image.Pixels);
        Assert.Equal((a.Prompt, a.Caption, a.MetadataLine), (b.Prompt, b.Caption, b.MetadataLine));
        Assert.Equal(a.Qa, b.Qa);
        Assert.Equal(a.Scene.Prompt.Metadata.ToJsonLine(), a.MetadataLine);
        Assert.Equal("describe the image.", a.Qa[^1].Question);
        Assert.Equal(a.Caption, a.Qa[^1].Answer);
    }

    [Fact]
    public void SplitsAreAFixedFunctionOfTheSceneSeed()
    {
        var counts = new int[3];
        for (long s = 0; s < 20000; s++) counts[(int)ShapesDataset.SplitOf(s)]++;
        Assert.InRange(counts[(int)ShapesSplit.Validation], 850, 1150);
        Assert.InRange(counts[(int)ShapesSplit.Test], 850, 1150);
        foreach (var split in Enum.GetValues<ShapesSplit>())
        {
            var ds = new ShapesDataset(new ShapesDatasetOptions(Split: split));
            var seeds = ds.Stream().Take(25).Select(x => x.SceneSeed).ToList();
            Assert.All(seeds, s => Assert.Equal(split, ShapesDataset.SplitOf(s)));
            Assert.Equal(seeds.Order(), seeds);
        }
        var first = new ShapesDataset(new ShapesDatasetOptions(Split: ShapesSplit.Test)).Stream().First().SceneSeed;
        Assert.Equal(first, Enumerable.Range(0, 1000).First(s => ShapesDataset.SplitOf(s) == ShapesSplit.Test));
    }

    [Fact]
    public void CategoryWeightsSetTheProportions()
    {
        var only = new ShapesDataset(new ShapesDatasetOptions(CategoryWeights: new Dictionary<string, double> { ["counting"] = 1 }));
        Assert.All(only.Stream().Take(30), s => Assert.Equal("counting", s.Tag));
        var mix = new ShapesDataset(new ShapesDatasetOptions(CategoryWeights: new Dictionary<string, double> { ["colors"] = 1, ["position"] = 3 }));
        var tags = mix.Stream().Take(400).Select(s => s.Tag).ToList();
        Assert.Equal(["colors", "position"], tags.Distinct().Order());
        Assert.InRange(tags.Count(t => t == "position"), 270, 330);
        Assert.Throws<ConfigValidationException>(() => new ShapesDataset(new ShapesDatasetOptions(CategoryWeights: new Dictionary<string, double> { ["dogs"] = 1 })));
        Assert.Throws<ConfigValidationException>(() => new ShapesDataset(new ShapesDatasetOptions(CategoryWeights: new Dictionary<string, double> { ["colors"] = 0 })));
        Assert.Throws<ConfigValidationException>(() => new ShapesDataset(new ShapesDatasetOptions(ValidationFraction: 0.6, TestFraction: 0.5)));
    }

    [Fact]
    public void BatchesStackImageTensors()
    {
        using var scope = NewDisposeScope();
        var ds = new ShapesDataset(new ShapesDatasetOptions(Split: ShapesSplit.Validation));
        using var batch = ds.Batches(3).First();
        Assert.Equal(new long[] { 3, 3, 64, 64 }, batch.Images.shape);
        Assert.Equal(3, batch.Samples.Count);
        for (int i = 0; i < 3; i++)
        {
            var expected = ImageTensor.FromRgbBytes(batch.Samples[i].Image.Pixels, 64, 64);
            Assert.True(batch.Images[i].allclose(expected));
            Assert.Equal(expected.data<float>().ToArray(), batch.Samples[i].ImageTensor().data<float>().ToArray());
        }
        Assert.True(batch.Images.min().item<float>() >= -1f && batch.Images.max().item<float>() <= 1f);
    }
}
