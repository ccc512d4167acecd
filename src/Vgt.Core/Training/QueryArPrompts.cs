using Vgt.Models.QueryAr;
using Vgt.Tokenization;

namespace Vgt.Training;

/// <summary>How over-long templated prompts are cut.</summary>
public enum PromptTruncation
{
    /// <summary>Cut the caption part but keep the closing <c>&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n</c> (fixes §11.2 item 10).</summary>
    KeepClosing,
    /// <summary>The reference: keep the first max tokens of the templated ids (may cut the closing turn).</summary>
    Reference,
}

/// <summary>
/// Data-side text handling for VGT-AR training (§8.1): CFG caption dropout (p = 0.1 → the CFG prompt), templating,
/// tokenisation and truncation to <see cref="MaxTokens"/>, and the reference collate (right-pad with id 0 + mask).
/// </summary>
public sealed class QueryArPrompts
{
    /// <summary>The reference's caption dropout probability.</summary>
    public const double DefaultDropout = 0.1;

    private readonly Qwen2Tokenizer tokenizer;
    private readonly int[] closing;

    public PromptTemplates Templates { get; }
    public int MaxTokens { get; }
    public PromptTruncation Truncation { get; }

    /// <summary>Token ids of the image-start marker (for <see cref="QueryArLossOptions.ImageStartIds"/>).</summary>
    public int[] ImageStartIds { get; }

    public QueryArPrompts(Qwen2Tokenizer tokenizer, PromptTemplates templates, int maxTokens = 256,
        PromptTruncation truncation = PromptTruncation.KeepClosing)
    {
        templates.Validate();
        this.tokenizer = tokenizer;
        Templates = templates;
        MaxTokens = maxTokens;
        Truncation = truncation;
        closing = tokenizer.Encode(templates.InstructionSuffix);
        ImageStartIds = tokenizer.Encode(templates.ImageStart);
        if (maxTokens <= closing.Length)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, $"max tokens must exceed the closing turn's {closing.Length} tokens");
    }

    /// <summary>Templated text; with probability <paramref name="dropout"/> (one draw from <paramref name="rng"/>) the unconditional prompt.</summary>
    public string Text(string caption, Random rng, double dropout = DefaultDropout)
    {
        if (dropout is < 0 or > 1 || double.IsNaN(dropout)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1]");
        return rng.NextDouble() < dropout ? Templates.Unconditional() : Templates.Conditional(caption);
    }

    /// <summary>Token ids of <see cref="Text"/>, truncated.</summary>
    public int[] Encode(string caption, Random rng, double dropout = DefaultDropout) => Truncate(tokenizer.Encode(Text(caption, rng, dropout)));

    /// <summary>Cuts <paramref name="ids"/> to <see cref="MaxTokens"/> by the configured rule.</summary>
    public int[] Truncate(int[] ids)
    {
        if (ids.Length <= MaxTokens) return ids;
        if (Truncation == PromptTruncation.Reference || !ids.AsSpan().EndsWith(closing)) return ids[..MaxTokens];
        return [.. ids[..(MaxTokens - closing.Length)], .. closing];
    }

    /// <summary>The reference collate: right-pad with <paramref name="padId"/> (0) to the longest row, mask true on real tokens.</summary>
    public static TokenBatch Collate(IReadOnlyList<int[]> rows, int padId = 0) => TokenBatch.FromRows(rows, padId);
}
