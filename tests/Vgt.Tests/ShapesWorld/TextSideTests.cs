using Vgt.Data.ShapesWorld;

namespace Vgt.Tests.ShapesWorld;

public class TextSideTests
{
    static readonly ShapesScene Scene = new(ShapesPrompt.Counting("circle", 2), new Rgb(220, 220, 220),
    [
        new SceneObject("circle", "red", new Rgb(215, 38, 38), 40, 5, 12),
        new SceneObject("triangle", "blue", new Rgb(35, 75, 215), 45, 40, 12),
        new SceneObject("square", "orange", new Rgb(240, 130, 20), 25, 10, 14),
        new SceneObject("circle", "red", new Rgb(215, 38, 38), 10, 40, 12),
    ]);

    [Fact]
    public void CaptionGroupsByColourAndShapeOrderedByLeftmostMember() =>
        Assert.Equal("two red circles, an orange square and a blue triangle", ShapesText.Caption(Scene));

    [Fact]
    public void CaptionLayoutNamesEachGroupAndWhereItsCountWordStarts()
    {
        var (caption, groups, starts) = ShapesText.CaptionLayout(Scene);
        Assert.Equal(ShapesText.Caption(Scene), caption);
        Assert.Equal([new CaptionGroup("red", "circle", 2), new CaptionGroup("orange", "square", 1), new CaptionGroup("blue", "triangle", 1)], groups);
        Assert.Equal([0, 17, 38], starts);
        Assert.All(groups.Zip(starts), g => Assert.StartsWith(g.First.Text, caption[g.Second..]));
        Assert.Empty(ShapesText.CaptionLayout(Scene with { Objects = [] }).Groups);
    }

    [Fact]
    public void CaptionTiesAreBrokenByTheTopEdge()
    {
        var scene = Scene with { Objects = [new SceneObject("diamond", "green", new Rgb(40, 160, 60), 10, 40, 12), new SceneObject("square", "pink", new Rgb(240, 110, 175), 10, 5, 12)] };
        Assert.Equal("a pink square and a green diamond", ShapesText.Caption(scene));
        Assert.Equal("an orange circle", ShapesText.Caption(Scene with { Objects = [new SceneObject("circle", "orange", new Rgb(240, 130, 20), 10, 5, 12)] }));
    }

    [Fact]
    public void QuestionsFollowSpecSix()
    {
        // square centre (32, 17), triangle centre (51, 46): offset (−19, −29) shrunk by 2.6 → (−16.4, −26.4),
        // normalised (−0.528, −0.849): the square is both left of and above the triangle.
        var expected = new (string, string)[]
        {
            ("how many circles are there?", "two"),
            ("how many squares are there?", "one"),
            ("how many triangles are there?", "one"),
            ("how many diamonds are there?", "zero"),
            ("what color is the square?", "orange"),
            ("what color is the triangle?", "blue"),
            ("what shape is the orange object?", "square"),
            ("what shape is the blue object?", "triangle"),
            ("is the square left of the triangle?", "yes"),
            ("is the square right of the triangle?", "no"),
            ("is the square above the triangle?", "yes"),
            ("is the square below the triangle?", "no"),
            ("is the triangle left of the square?", "no"),
            ("is the triangle right of the square?", "yes"),
            ("is the triangle above the square?", "no"),
            ("is the triangle below the square?", "yes"),
            ("describe the image.", "two red circles, an orange square and a blue triangle"),
        };
        Assert.Equal(expected, ShapesText.Questions(Scene).Select(q => (q.Question, q.Answer)));
    }
}
