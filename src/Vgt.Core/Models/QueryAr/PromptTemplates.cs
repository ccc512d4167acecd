using Vgt.Config;

namespace Vgt.Models.QueryAr;

/// <summary>
/// The VGT prompt templates (reference §7.5; identical for InternVL3 and Qwen2.5-VL). <c>{input}</c> marks where the
/// inner text goes. Conditional text = Instruction(Generation(caption.Trim())); unconditional = Instruction(Cfg).
/// </summary>
public sealed record PromptTemplates : IValidatable
{
    public const string Placeholder = "{input}";

    /// <summary>Chat wrapper: <c>&lt;|im_start|&gt;user\n{input}&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n</c>.</summary>
    public string Instruction { get; init; } = "<|im_start|>user\n{input}<|im_end|>\n<|im_start|>assistant\n";

    /// <summary>Generation request: <c>Generate an image: {input}</c>.</summary>
    public string Generation { get; init; } = "Generate an image: {input}";

    /// <summary>The unconditional (CFG) request: <c>Generate an image.</c>.</summary>
    public string Cfg { get; init; } = "Generate an image.";

    /// <summary>Text of the image-start marker whose token ids are embedded after the prompt: <c>&lt;img&gt;</c>.</summary>
    public string ImageStart { get; init; } = "<img>";

    /// <summary>The closing part of <see cref="Instruction"/> after <c>{input}</c>; kept by suffix-preserving truncation.</summary>
    public string InstructionSuffix => Instruction[(Instruction.IndexOf(Placeholder, StringComparison.Ordinal) + Placeholder.Length)..];

    /// <summary>Templated text for a caption (or a negative prompt): Instruction(Generation(text.Trim())).</summary>
    public string Conditional(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return Fill(Instruction, Fill(Generation, caption.Trim()));
    }

    /// <summary>Templated unconditional text: Instruction(Cfg).</summary>
    public string Unconditional() => Fill(Instruction, Cfg);

    private static string Fill(string template, string input) => template.Replace(Placeholder, input, StringComparison.Ordinal);

    public void Validate()
    {
        ConfigValidationException.Require(Count(Instruction) == 1, "prompts.instruction", $"must contain {Placeholder} exactly once");
        ConfigValidationException.Require(Count(Generation) == 1, "prompts.generation", $"must contain {Placeholder} exactly once");
        ConfigValidationException.Require(!string.IsNullOrWhiteSpace(Cfg) && Count(Cfg) == 0, "prompts.cfg", $"must be non-empty text without {Placeholder}");
        ConfigValidationException.Require(!string.IsNullOrEmpty(ImageStart), "prompts.image_start", "must be non-empty");
    }

    private static int Count(string s)
    {
        int n = 0;
        for (int i = s.IndexOf(Placeholder, StringComparison.Ordinal); i >= 0; i = s.IndexOf(Placeholder, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
