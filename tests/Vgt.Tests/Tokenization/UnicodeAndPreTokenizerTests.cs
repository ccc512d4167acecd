using System.Text.Json;
using Vgt.Tokenization;
using static Vgt.Tests.Tokenization.TokenizerFixtures;

namespace Vgt.Tests.Tokenization;

public class UnicodeAndPreTokenizerTests
{
    /// <summary>The regex of backbones.md §5.2, copied character for character.</summary>
    const string SpecRegex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Fact]
    public void Pattern_is_exactly_qwen2s_regex()
    {
        Assert.Equal(SpecRegex, Qwen2PreTokenizer.Pattern);
        // The real Qwen2 tokenizer.json (the subset fixture keeps its pre_tokenizer section verbatim).
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Qwen2SubsetDir, "tokenizer.json")));
        var split = doc.RootElement.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0];
        Assert.Equal(Qwen2PreTokenizer.Pattern, split.GetProperty("pattern").GetProperty("Regex").GetString());
        // And the spec itself, when the shared folder sits beside the repository.
        var spec = FindUp(Path.Combine("shared", "reference", "backbones.md"));
        if (spec is not null)
            Assert.Contains($"The regex, exactly (from `PRETOKENIZE_REGEX`): `{Qwen2PreTokenizer.Pattern}`", File.ReadAllText(spec));
    }

    static string? FindUp(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, relative);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    static string[] Pieces(string text) =>
        Qwen2PreTokenizer.Split(text).Select(p => text.Substring(p.Offset, p.Length)).ToArray();

    [Fact]
    public void Splits_follow_the_regex()
    {
        Assert.Equal(["a", "  ", " b"], Pieces("a   b"));
        Assert.Equal(["2", "0", "2", "4"], Pieces("2024"));
        Assert.Equal(["I", "'m", " sure", " it", "'S"], Pieces("I'm sure it'S"));
        Assert.Equal(["Hello", "!!!\n\n", "x", "\n\n", " y"], Pieces("Hello!!!\n\nx\n\n y"));
        Assert.Equal(["line", "\r\n", "next"], Pieces("line\r\nnext"));
        Assert.Equal(["<img", ">"], Pieces("<img>"));
        Assert.Empty(Pieces(""));
    }

    [Fact]
    public void Supplementary_plane_characters_split_per_code_point()
    {
        // An emoji (So) before letters is the optional non-letter prefix, as in Hugging Face's code-point regex.
        Assert.Equal(["😀abc"], Pieces("😀abc"));
        Assert.Equal(["a𠀀b"], Pieces("a𠀀b"));             // CJK Ext-B is \p{L}
        Assert.Equal(["x", "𝟏", "𝟐"], Pieces("x𝟏𝟐"));        // math digits are \p{N}
        Assert.Equal([" 😀😀", " 𝐀𝐁"], Pieces(" 😀😀 𝐀𝐁"));
    }

    [Fact]
    public void Nfc_known_cases()
    {
        Assert.Equal("\u00e9", UnicodeNfc.Normalize("e\u0301"));
        Assert.Equal("\u00c5", UnicodeNfc.Normalize("A\u030a"));
        Assert.Equal("\u00c5", UnicodeNfc.Normalize("\u212b"));              // singleton
        Assert.Equal("\uac01", UnicodeNfc.Normalize("\u1100\u1161\u11a8"));  // Hangul LVT
        Assert.Equal("\u1e0d\u0307", UnicodeNfc.Normalize("\u1e0b\u0323"));  // reorder, then compose the dot below
        Assert.Equal("q\u0323\u0307", UnicodeNfc.Normalize("q\u0307\u0323"));
        Assert.Equal("\u226f", UnicodeNfc.Normalize(">\u0338"));
        Assert.Equal("\u0308\u0301", UnicodeNfc.Normalize("\u0344"));        // excluded from composition
        Assert.Equal("\U0001D157\U0001D165", UnicodeNfc.Normalize("\U0001D15E"));  // astral, excluded
        const string ascii = "plain ASCII text";
        Assert.Same(ascii, UnicodeNfc.Normalize(ascii));
        Assert.Throws<ArgumentException>(() => UnicodeNfc.Normalize("bad \ud800 surrogate"));
    }

    [Fact]
    public void Nfc_matches_pythons_unicodedata_on_random_strings()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Dir("nfc_cases.json")));
        int changed = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!, nfc = c.GetProperty("nfc").GetString()!;
            Assert.Equal(nfc, UnicodeNfc.Normalize(text));
            if (text != nfc) changed++;
        }
        Assert.Equal(61, changed);
    }

    [Fact]
    public void Byte_level_table_is_gpt2s()
    {
        Assert.Equal('Ġ', ByteLevel.ByteToChar[0x20]);
        Assert.Equal('Ċ', ByteLevel.ByteToChar[0x0A]);
        Assert.Equal('\u0100', ByteLevel.ByteToChar[0x00]);
        Assert.Equal('Ń', ByteLevel.ByteToChar[0xAD]);
        Assert.Equal('!', ByteLevel.ByteToChar[0x21]);
        Assert.Equal(0x21, ByteLevel.AlphabetOrder[0]);
        Assert.Equal(0xAD, ByteLevel.AlphabetOrder[255]);
        Assert.Equal(256, ByteLevel.ByteToChar.Distinct().Count());
    }
}
