using System.Text;
using Vgt.Tokenization;

namespace Vgt.Models.InternVl;

/// <summary>
/// The ChatML-shaped prompt of InternVL chat models (backbones.md §3.6, MPT separator style):
/// <c>&lt;|im_start|&gt;system\n{system}&lt;|im_end|&gt;\n</c> (only when the template has a system message), then
/// <c>&lt;|im_start|&gt;user\n{message}&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n</c>. Each <c>&lt;image&gt;</c>
/// in the message becomes <c>&lt;img&gt;</c> + <c>&lt;IMG_CONTEXT&gt;</c> × tokens-per-image + <c>&lt;/img&gt;</c>; a
/// message with images but no placeholder gets <c>&lt;image&gt;\n</c> per image in front (as InternVL's chat()).
/// </summary>
/// <param name="Name">The config.json <c>template</c> value.</param>
/// <param name="SystemMessage">Null: no system turn (VGT's own prompts, shapes-vlm).</param>
public sealed record InternVlChatTemplate(string Name, string? SystemMessage)
{
    public const string ImagePlaceholder = "<image>";

    /// <summary>InternVL's default system message of the "internvl2_5" template (InternVL3-1B/2B).</summary>
    public const string InternVlSystemMessage =
        "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。";

    /// <summary>"internvl2_5": InternVL3's template, with InternVL's default system message.</summary>
    public static InternVlChatTemplate InternVl2_5 { get; } = new("internvl2_5", InternVlSystemMessage);

    /// <summary>"vgt": the same turns without a system turn, as VGT's generation prompts (used by shapes-vlm).</summary>
    public static InternVlChatTemplate Vgt { get; } = new("vgt", null);

    /// <summary>The template named in config.json (null or absent = "internvl2_5", InternVL3's).</summary>
    public static InternVlChatTemplate ForName(string? name) => name switch
    {
        null or "internvl2_5" or "internvl2_5_nothink" or "internvl3" => InternVl2_5 with { Name = name ?? "internvl2_5" },
        "vgt" => Vgt,
        _ => throw new NotSupportedException($"Unknown chat template \"{name}\" in config.json; supported: \"internvl2_5\", \"vgt\"."),
    };

    /// <summary>The text of one image: <c>&lt;img&gt;</c> + <c>&lt;IMG_CONTEXT&gt;</c> × <paramref name="tokensPerImage"/> + <c>&lt;/img&gt;</c>.</summary>
    public static string ImageText(int tokensPerImage)
    {
        if (tokensPerImage < 1) throw new ArgumentOutOfRangeException(nameof(tokensPerImage), tokensPerImage, "an image needs at least one token");
        var sb = new StringBuilder(Qwen2SpecialTokens.ImgStart.Length + Qwen2SpecialTokens.ImgEnd.Length + tokensPerImage * Qwen2SpecialTokens.ImgContext.Length);
        sb.Append(Qwen2SpecialTokens.ImgStart);
        for (int i = 0; i < tokensPerImage; i++) sb.Append(Qwen2SpecialTokens.ImgContext);
        return sb.Append(Qwen2SpecialTokens.ImgEnd).ToString();
    }

    /// <summary>
    /// The user message with its images spliced in: <paramref name="images"/> <c>&lt;image&gt;</c> placeholders (added in
    /// front as <c>&lt;image&gt;\n</c> each when the question has none) replaced in order by <see cref="ImageText"/>.
    /// </summary>
    public static string UserMessage(string question, int images, int tokensPerImage)
    {
        ArgumentNullException.ThrowIfNull(question);
        if (images < 0) throw new ArgumentOutOfRangeException(nameof(images), images, "the image count cannot be negative");
        int placeholders = Count(question, ImagePlaceholder);
        if (placeholders == 0 && images > 0)
        {
            question = string.Concat(Enumerable.Repeat(ImagePlaceholder + "\n", images)) + question;
            placeholders = images;
        }
        if (placeholders != images)
            throw new ArgumentException($"the message has {placeholders} {ImagePlaceholder} placeholder(s) but {images} image(s) were given");
        return images == 0 ? question : question.Replace(ImagePlaceholder, ImageText(tokensPerImage), StringComparison.Ordinal);
    }

    /// <summary>The full prompt for one user turn, ending where the assistant's answer begins.</summary>
    public string Prompt(string userMessage)
    {
        ArgumentNullException.ThrowIfNull(userMessage);
        var sb = new StringBuilder();
        if (SystemMessage is not null)
            sb.Append(Qwen2SpecialTokens.ImStart).Append("system\n").Append(SystemMessage).Append(Qwen2SpecialTokens.ImEnd).Append('\n');
        sb.Append(Qwen2SpecialTokens.ImStart).Append("user\n").Append(userMessage).Append(Qwen2SpecialTokens.ImEnd).Append('\n');
        sb.Append(Qwen2SpecialTokens.ImStart).Append("assistant\n");
        return sb.ToString();
    }

    /// <summary>Prompt for a question about <paramref name="images"/> images of <paramref name="tokensPerImage"/> tokens each.</summary>
    public string Prompt(string question, int images, int tokensPerImage) => Prompt(UserMessage(question, images, tokensPerImage));

    /// <summary>What the assistant's turn ends with: the answer then <c>&lt;|im_end|&gt;</c> (the stop token).</summary>
    public static string AnswerText(string answer) => answer + Qwen2SpecialTokens.ImEnd;

    static int Count(string text, string word)
    {
        int n = 0;
        for (int i = text.IndexOf(word, StringComparison.Ordinal); i >= 0; i = text.IndexOf(word, i + word.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
