using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Vgt.Tokenization;

/// <summary>
/// Qwen2's pre-tokenizer: <see cref="Pattern"/> with "isolated" behaviour (each match is one piece; the
/// pattern covers every character, so nothing falls between matches).
/// </summary>
/// <remarks>
/// .NET's Regex works on UTF-16 code units, so a supplementary-plane letter (CJK Ext-B, math letters) would
/// be two surrogates that <c>\p{L}</c> does not match, and "😀abc" would split differently from Hugging
/// Face's code-point regex. To match per code point, text that has surrogates is first rewritten with one
/// stand-in character per code point (a letter, a number or a symbol of the same regex class), matched, and
/// the matches mapped back to the original offsets.
/// </remarks>
public sealed class Qwen2PreTokenizer : PreTokenizer
{
    /// <summary>Qwen2's pre-tokenizer regex, exactly as in transformers' PRETOKENIZE_REGEX and tokenizer.json.</summary>
    public const string Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly Qwen2PreTokenizer Instance = new();

    static readonly Regex regex = new(Pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    // Stand-ins for supplementary-plane code points, one per class the pattern distinguishes.
    const char LetterStandIn = '\u3042';  // HIRAGANA LETTER A: \p{L}, no case, not in the contractions
    const char NumberStandIn = '\u00B2';  // SUPERSCRIPT TWO: \p{N}
    const char OtherStandIn = '\uE000';   // private use: neither \s, \p{L} nor \p{N}

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        text is null ? [] : Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    /// <summary>Pieces of <paramref name="text"/> as (offset, length) in UTF-16 units.</summary>
    public static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int, int)>();
        if (text.IsEmpty) return pieces;
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (var m in regex.EnumerateMatches(text)) pieces.Add((m.Index, m.Length));
            return pieces;
        }

        // offsets[k] = UTF-16 offset of code point k in the original text; offsets[n] = text.Length.
        var compact = new StringBuilder(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out int used) != System.Buffers.OperationStatus.Done)
                throw new ArgumentException($"Text has an unpaired UTF-16 surrogate at index {i}; it is not valid Unicode.", nameof(text));
            offsets.Add(i);
            compact.Append(rune.IsBmp ? (char)rune.Value : StandIn(rune));
            i += used;
        }
        offsets.Add(text.Length);
        foreach (var m in regex.EnumerateMatches(compact.ToString()))
        {
            int start = offsets[m.Index], end = offsets[m.Index + m.Length];
            pieces.Add((start, end - start));
        }
        return pieces;
    }

    static char StandIn(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => LetterStandIn,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => NumberStandIn,
        _ => OtherStandIn,   // no supplementary code point is White_Space
    };
}
