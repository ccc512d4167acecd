using SkiaSharp;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

/// <summary>Spec §9 on 600 scenes, the §1–§4 sampling and placement guarantees, and determinism.</summary>
public class GroundTruthTests
{
    [Fact]
    public void JudgeMarksSixHundredGroundTruthScenesCorrect()
    {
        var result = Assert.Single(ShapesVerification.Run(600, seed: 7, perturbations: false));
        Assert.Equal(ShapesVocabulary.Categories, result.Categories.Select(c => c.Tag));
        foreach (var c in result.Categories) Assert.Equal((100, 100), (c.Correct, c.Total));
        Assert.Empty(result.FirstFailures);
    }

    [Fact]
    public void ScenesKeepThePlacementAndColourGuarantees()
    {
        for (long seed = 0; seed < 600; seed++)
        {
            var scene = ShapesSceneSampler.ForSceneSeed(seed);
            var bg = scene.Background;
            int lo = Math.Min(bg.R, Math.Min(bg.G, bg.B)), hi = Math.Max(bg.R, Math.Max(bg.G, bg.B));
            Assert.InRange(hi - lo, 0, 12);
            Assert.InRange(lo, 194, 251);
            Assert.InRange(hi, 194, 251);
            var p = scene.Prompt;
            int expectedCount = p.Tag switch { "single_object" or "colors" => 1, "counting" => p.Count, _ => 2 };
            Assert.Equal(expectedCount, scene.Objects.Count);
            for (int i = 0; i < scene.Objects.Count; i++)
            {
                var o = scene.Objects[i];
                Assert.InRange(o.Side, 12, 20);
                Assert.True(o.X0 >= 2 && o.Y0 >= 2 && o.X0 + o.Side <= 62 && o.Y0 + o.Side <= 62, $"seed {seed}: box outside [2, 62)");
                var pal = ShapesVocabulary.Palette(o.Color);
                Assert.InRange(o.Fill.R - pal.R, -10, 10);
                Assert.InRange(o.Fill.G - pal.G, -10, 10);
                Assert.InRange(o.Fill.B - pal.B, -10, 10);
                for (int j = 0; j < i; j++) Assert.True(o.SeparatedFrom(scene.Objects[j], 3), $"seed {seed}: objects {j} and {i} closer than 3 px");
            }
            if (p.Color is not null) Assert.Equal(p.Color, scene.Objects[0].Color);
            if (p.OtherColor is not null) Assert.Equal(p.OtherColor, scene.Objects[1].Color);
            if (p.Relation is { } rel) Assert.True(ShapesSceneSampler.RelationComponent(rel, scene.Objects[0], scene.Objects[1]) >= 0.7, $"seed {seed}: relation margin");
        }
    }

    [Fact]
    public void RenderingIsDeterministicPerPromptAndSeed()
    {
        var prompt = ShapesPromptParser.Parse("a photo of a red circle and a blue square");
        var a = ShapesRenderer.Render(ShapesSceneSampler.ForPrompt(prompt, 3));
        var b = ShapesRenderer.Render(ShapesSceneSampler.ForPrompt(prompt, 3));
        var c = ShapesRenderer.Render(ShapesSceneSampler.ForPrompt(prompt, 4));
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
        var s1 = ShapesSceneSampler.ForSceneSeed(12345);
        var s2 = ShapesSceneSampler.ForSceneSeed(12345);
        Assert.Equal((s1.Prompt, s1.Background), (s2.Prompt, s2.Background));
        Assert.Equal(s1.Objects, s2.Objects);
        Assert.Equal(ShapesText.Caption(ShapesSceneSampler.ForSceneSeed(12345)), ShapesText.Caption(ShapesSceneSampler.ForSceneSeed(12345)));
    }

    [Fact]
    public void RenderedImageHasTheSceneBackgroundAndExactSquares()
    {
        var scene = new ShapesScene(ShapesPrompt.Colors("green", "square"), new Rgb(210, 204, 215),
            [new SceneObject("square", "green", new Rgb(45, 151, 66), 10, 20, 13)]);
        var img = ShapesRenderer.Render(scene);
        Assert.Equal((64, 64), (img.Width, img.Height));
        int At(int x, int y, int c) => img.Pixels[img.Offset(x, y) + c];
        Assert.Equal((210, 204, 215), (At(0, 0, 0), At(0, 0, 1), At(0, 0, 2)));
        Assert.Equal((210, 204, 215), (At(9, 20, 0), At(9, 20, 1), At(9, 20, 2)));    // just left of the box
        Assert.Equal((45, 151, 66), (At(10, 20, 0), At(10, 20, 1), At(10, 20, 2)));    // the box's first pixel
        Assert.Equal((45, 151, 66), (At(22, 32, 0), At(22, 32, 1), At(22, 32, 2)));    // its last pixel
        Assert.Equal((210, 204, 215), (At(23, 32, 0), At(23, 32, 1), At(23, 32, 2)));
        var o = Assert.Single(new ShapesDetector().Analyse(img));
        Assert.Equal(("square", "green", 10, 20, 13, 13, 169), (o.Shape, o.Color, o.X, o.Y, o.Width, o.Height, o.Area));
    }

    [Fact]
    public void PngRoundTripIsLosslessAndScaledRenderingWorks()
    {
        var img = ShapesRenderer.Render(ShapesSceneSampler.ForSceneSeed(99));
        Assert.Equal(img.Pixels, RgbImageFiles.Decode(RgbImageFiles.Encode(img, SKEncodedImageFormat.Png, 100)).Pixels);
        var prompt = ShapesPromptParser.Parse("a photo of three triangles");
        var big = ShapesRenderer.Render(ShapesSceneSampler.ForPrompt(prompt, 0), 128);
        Assert.Equal((128, 128), (big.Width, big.Height));
        Assert.True(GenEvalScorer.Judge(prompt.Metadata, new ShapesDetector().Detect(big)).Correct);
    }
}
