using Vgt.Tokenization;
using static Vgt.Tests.Tokenization.TokenizerFixtures;

namespace Vgt.Tests.Tokenization;

/// <summary>
/// Ids against references: the real Qwen2 vocabulary (subset) with ids that Hugging Face's tokenizers library
/// and our Python reference both produced on the full tokenizer, and our trained tiny tokenizer with ids from
/// the Python reference (which Hugging Face's library also reproduced on that tokenizer.json).
/// </summary>
public class Qwen2TokenizerParityTests
{
    [Fact]
    public void Qwen2_subset_matches_reference_ids_on_every_case()
    {
        var tok = Qwen2Subset;
        var cases = Parity(Qwen2SubsetDir);
        Assert.Equal(32, cases.Count);
        foreach (var c in cases) Assert.True(c.Ids.SequenceEqual(tok.Encode(c.Text)), $"ids differ for {c.Text}");
    }

    [Fact]
    public void Qwen2_known_ids_from_the_spec()
    {
        var tok = Qwen2Subset;
        Assert.Equal([9707, 1879], tok.Encode("Hello world"));
        Assert.Equal([21927, 1879], tok.Encode(" Hello world"));
        Assert.Equal(198, tok.TokenToId("Ċ"));
        Assert.Equal(8948, tok.TokenToId("system"));
        Assert.Equal(872, tok.TokenToId("user"));
        Assert.Equal(77091, tok.TokenToId("assistant"));
        Assert.Equal(151643, tok.EndOfText);
        Assert.Equal(151643, tok.PadId);
        Assert.Equal(151644, tok.ImStart);
        Assert.Equal(151645, tok.ImEnd);
        Assert.Equal(151665, tok.ImgStart);
        Assert.Equal(151666, tok.ImgEnd);
        Assert.Equal(151667, tok.ImgContext);
        Assert.True(tok.HasImageTokens);
        Assert.Equal(151674, tok.VocabSize);   // InternVL3's embedding rows
    }

    [Fact]
    public void Vgt_prompt_encodes_with_single_special_ids()
    {
        var ids = Qwen2Subset.Encode("<|im_start|>user\nGenerate an image: a red cube on top of a blue sphere<|im_end|>\n<|im_start|>assistant\n");
        Assert.Equal([151644, 872, 198, 31115, 458, 2168, 25, 264, 2518, 23739, 389, 1909, 315, 264, 6303, 25366, 151645, 198, 151644, 77091, 198], ids);
    }

    [Fact]
    public void Tiny_matches_reference_ids_from_tokenizer_json()
    {
        var tok = Tiny;
        foreach (var c in Parity(TinyDir)) Assert.True(c.Ids.SequenceEqual(tok.Encode(c.Text)), $"ids differ for {c.Text}");
    }

    [Fact]
    public void Tiny_matches_reference_ids_from_vocab_and_merges()
    {
        using var dir = new TempDir();
        foreach (var f in new[] { "vocab.json", "merges.txt", "tokenizer_config.json" })
            File.Copy(Path.Combine(TinyDir, f), dir.File(f));
        var tok = Qwen2Tokenizer.Load(dir.Path);
        foreach (var c in Parity(TinyDir)) Assert.True(c.Ids.SequenceEqual(tok.Encode(c.Text)), $"ids differ for {c.Text}");
        Assert.Equal(Tiny.ImgContext, tok.ImgContext);
        Assert.Equal(Tiny.VocabSize, tok.VocabSize);
    }

    [Fact]
    public void Decoding_reference_ids_gives_the_nfc_text()
    {
        foreach (var (tok, dir) in new[] { (Qwen2Subset, Qwen2SubsetDir), (Tiny, TinyDir) })
            foreach (var c in Parity(dir))
                Assert.Equal(NfcOutsideAddedTokens(tok, c.Text), tok.Decode(c.Ids));
    }

    /// <summary>NFC of the text between added tokens (the tokens themselves are never normalized).</summary>
    static string NfcOutsideAddedTokens(Qwen2Tokenizer tok, string text)
    {
        var contents = tok.AddedTokens.Select(a => a.Content).OrderByDescending(c => c.Length).ToArray();
        var sb = new System.Text.StringBuilder();
        int plain = 0;
        for (int i = 0; i < text.Length;)
        {
            var hit = contents.FirstOrDefault(c => string.CompareOrdinal(text, i, c, 0, c.Length) == 0 && i + c.Length <= text.Length);
            if (hit is null) { i++; continue; }
            sb.Append(UnicodeNfc.Normalize(text[plain..i])).Append(hit);
            i += hit.Length;
            plain = i;
        }
        return sb.Append(UnicodeNfc.Normalize(text[plain..])).ToString();
    }
}
