using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

public class PromptParserTests
{
    [Fact]
    public void EveryPromptOfEveryCategoryParsesBackToItself()
    {
        int n = 0;
        foreach (var tag in ShapesVocabulary.Categories)
            foreach (var p in ShapesPrompt.All(tag))
            {
                Assert.Equal(p, ShapesPromptParser.Parse(p.Text));
                Assert.Equal(p, ShapesPrompt.FromMetadata(p.Metadata));
                n++;
            }
        Assert.Equal(4 + 12 + 12 + 32 + 48 + 672, n);
    }

    [Theory]
    [InlineData("a photo of a diamond", "single_object")]
    [InlineData("a photo of a triangle and a circle", "two_object")]
    [InlineData("a photo of four squares", "counting")]
    [InlineData("a photo of an orange circle", "colors")]
    [InlineData("a photo of a square below a diamond", "position")]
    [InlineData("a photo of a circle left of a square", "position")]
    [InlineData("a photo of a pink square and an orange circle", "color_attr")]
    [InlineData("  A Photo of an ORANGE   circle. ", "colors")]
    public void ParsesTheSixTemplates(string text, string tag) => Assert.Equal(tag, ShapesPromptParser.Parse(text).Tag);

    [Fact]
    public void ParsedPromptsHaveTheSpecMetadata()
    {
        Assert.Equal("{\"tag\": \"position\", \"include\": [{\"class\": \"diamond\", \"count\": 1}, {\"class\": \"circle\", \"count\": 1, \"position\": [\"left of\", 0]}], \"prompt\": \"a photo of a circle left of a diamond\"}",
            ShapesPromptParser.Parse("a photo of a circle left of a diamond").Metadata.ToJsonLine());
        Assert.Equal("{\"tag\": \"color_attr\", \"include\": [{\"class\": \"square\", \"count\": 1, \"color\": \"pink\"}, {\"class\": \"circle\", \"count\": 1, \"color\": \"orange\"}], \"prompt\": \"a photo of a pink square and an orange circle\"}",
            ShapesPromptParser.Parse("a photo of a pink square and an orange circle").Metadata.ToJsonLine());
    }

    [Theory]
    [InlineData("a photo of a dog", "word 5: expected a colour or a shape (circle, square, triangle, diamond), found 'dog'")]
    [InlineData("a photo of a orange circle", "word 4: 'an' goes before 'orange', not 'a'")]
    [InlineData("a photo of an circle", "word 4: 'a' goes before 'circle', not 'an'")]
    [InlineData("an image of a circle", "word 1: expected 'a', found 'an'")]
    [InlineData("a photo of a circle and a circle", "word 7: The two shapes of this category must differ, got 'circle' twice")]
    [InlineData("a photo of a red circle and a red square", "must differ, got 'red' twice")]
    [InlineData("a photo of a red circle and a square", "either both objects or neither must have a colour")]
    [InlineData("a photo of five circles", "expected 'a' or 'an', found 'five'")]
    [InlineData("a photo of two circle", "expected a plural shape (circles, squares, triangles, diamonds), found 'circle'")]
    [InlineData("a photo of a red circle left of a square", "position prompts name shapes without colours")]
    [InlineData("a photo of a circle near a square", "expected 'and' or a relation (left of, right of, above, below), found 'near'")]
    [InlineData("a photo of a circle left a square", "expected 'of', found 'a'")]
    [InlineData("a photo of a circle and a square please", "expected the end of the prompt, found 'please'")]
    [InlineData("a photo of a red", "expected a shape (circle, square, triangle, diamond), found the end of the prompt")]
    [InlineData("", "expected 'a', found the end of the prompt")]
    public void TextOutsideTheGrammarGetsAClearError(string text, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => ShapesPromptParser.Parse(text));
        Assert.Contains(fragment, e.Message);
        Assert.Contains("is outside the Shapes World grammar", e.Message);
        Assert.Contains("a photo of {two|three|four} {shape}s", e.Message); // the grammar is shown
        Assert.False(ShapesPromptParser.TryParse(text, out _, out var error));
        Assert.Equal(e.Message, error);
    }

    [Fact]
    public void MetadataThatDoesNotMatchItsPromptIsRefused()
    {
        var m = new GenEvalMetadata("single_object", [new GenEvalClause("square", 1)], null, "a photo of a circle");
        var e = Assert.Throws<InvalidDataException>(() => ShapesPrompt.FromMetadata(m, "bench.jsonl:4"));
        Assert.StartsWith("bench.jsonl:4: the metadata does not match its prompt 'a photo of a circle'", e.Message);
        var outside = new GenEvalMetadata("single_object", [new GenEvalClause("dog", 1)], null, "a photo of a dog");
        Assert.StartsWith("bench.jsonl:9: the prompt is not a Shapes World prompt", Assert.Throws<InvalidDataException>(() => ShapesPrompt.FromMetadata(outside, "bench.jsonl:9")).Message);
    }
}
