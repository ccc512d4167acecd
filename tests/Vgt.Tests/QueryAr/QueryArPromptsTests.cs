using Vgt.Models.QueryAr;
using Vgt.Training;

namespace Vgt.Tests.QueryAr;

public sealed class QueryArPromptsTests
{
    private static readonly Vgt.Tokenization.Qwen2Tokenizer Tok = QueryArFixture.Tokenizer();

    [Fact]
    public void TruncationKeepsTheClosingTurn()
    {
        var templates = new PromptTemplates();
        var caption = string.Join(" ", Enumerable.Repeat("a big red house by the lake", 20));
        var full = Tok.Encode(templates.Conditional(caption));
        var closing = Tok.Encode(templates.InstructionSuffix);
        Assert.True(full.Length > 64);

        var keep = new QueryArPrompts(Tok, templates, 64).Truncate(full);
        Assert.Equal(64, keep.Length);
        Assert.Equal(closing, keep[^closing.Length..]);
        Assert.Equal(full[..(64 - closing.Length)], keep[..(64 - closing.Length)]);

        var reference = new QueryArPrompts(Tok, templates, 64, PromptTruncation.Reference).Truncate(full);
        Assert.Equal(full[..64], reference);
        Assert.NotEqual(closing, reference[^closing.Length..]);

        var shortIds = Tok.Encode(templates.Conditional("a cat"));
        Assert.Same(shortIds, new QueryArPrompts(Tok, templates, 64).Truncate(shortIds));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryArPrompts(Tok, templates, closing.Length));
        Assert.Equal(new[] { 1021 }, new QueryArPrompts(Tok, templates).ImageStartIds);
    }

    [Fact]
    public void CaptionDropoutUsesTheCfgPrompt()
    {
        var prompts = new QueryArPrompts(Tok, new PromptTemplates());
        var rng = new Random(5);
        Assert.Equal(new PromptTemplates().Unconditional(), prompts.Text("a cat", rng, dropout: 1));
        Assert.Equal(new PromptTemplates().Conditional("a cat"), prompts.Text("a cat", rng, dropout: 0));
        int dropped = Enumerable.Range(0, 2000).Count(_ => prompts.Text("a cat", rng) == new PromptTemplates().Unconditional());
        Assert.InRange(dropped, 150, 250);                                   // p = 0.1
        Assert.Throws<ArgumentOutOfRangeException>(() => prompts.Text("a cat", rng, dropout: 1.5));
    }

    [Fact]
    public void CollatePadsWithZeroOnTheRight()
    {
        var batch = QueryArPrompts.Collate([[5, 6, 7], [8]]);
        Assert.Equal(new[] { 5, 6, 7, 8, 0, 0 }, batch.Ids);
        Assert.Equal(new[] { true, true, true, true, false, false }, batch.Mask);
    }
}
