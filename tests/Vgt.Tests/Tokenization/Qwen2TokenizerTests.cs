using Vgt.Tokenization;
using static Vgt.Tests.Tokenization.TokenizerFixtures;

namespace Vgt.Tests.Tokenization;

public class Qwen2TokenizerTests
{
    [Fact]
    public void Round_trip_of_random_unicode_is_nfc_of_the_input()
    {
        var rng = new Random(7);
        foreach (var tok in new[] { Tiny, Qwen2Subset })
            for (int i = 0; i < 300; i++)
            {
                string text = RandomText(rng, 40);
                Assert.Equal(UnicodeNfc.Normalize(text), tok.Decode(tok.Encode(text)));
            }
    }

    [Fact]
    public void Special_tokens_encode_to_single_ids_and_are_never_merged()
    {
        var tok = Tiny;
        foreach (var s in Qwen2SpecialTokens.Default)
        {
            int id = tok.TokenToId(s)!.Value;
            Assert.Equal([id], tok.Encode(s));
            Assert.Equal([id, id], tok.Encode(s + s));
            Assert.Contains(id, tok.Encode("x" + s + "y"));
            Assert.True(tok.IsSpecial(id));
        }
        // Random text with specials dropped in: each one comes out as exactly its id, nothing else produces it.
        var rng = new Random(11);
        var specialIds = Qwen2SpecialTokens.Default.Select(s => tok.TokenToId(s)!.Value).ToHashSet();
        for (int i = 0; i < 100; i++)
        {
            var parts = new List<string>();
            var expected = new List<int>();
            for (int k = 0; k < 4; k++)
            {
                parts.Add(RandomText(rng, 8));
                var s = Qwen2SpecialTokens.Default[rng.Next(Qwen2SpecialTokens.Default.Count)];
                parts.Add(s);
                expected.Add(tok.TokenToId(s)!.Value);
            }
            var ids = tok.Encode(string.Concat(parts));
            Assert.Equal(expected, ids.Where(specialIds.Contains));
            Assert.Equal(UnicodeNfcOfSegments(parts), tok.Decode(ids));
            Assert.Equal(string.Concat(parts.Where((_, j) => j % 2 == 0).Select(UnicodeNfc.Normalize)), tok.Decode(ids, skipSpecialTokens: true));
        }
    }

    static string UnicodeNfcOfSegments(List<string> parts) =>
        string.Concat(parts.Select((p, j) => j % 2 == 0 ? UnicodeNfc.Normalize(p) : p));

    [Fact]
    public void Special_tokens_are_matched_before_nfc()
    {
        // '>' + U+0338 composes to U+226F under NFC; the added token must win, as in Hugging Face.
        var tok = Qwen2Subset;
        var ids = tok.Encode("<img>\u0338");
        Assert.Equal(tok.ImgStart, ids[0]);
        Assert.Equal("<img>\u0338", tok.Decode(ids));
        Assert.DoesNotContain(tok.ImgStart, tok.Encode("<img\u0338>"));
    }

    [Fact]
    public void Special_tokens_can_be_read_as_plain_text()
    {
        var tok = Tiny;
        var ids = tok.Encode("<|im_end|>", parseSpecialTokens: false);
        Assert.True(ids.Length > 1);
        Assert.DoesNotContain(ids, tok.IsSpecial);
        Assert.Equal("<|im_end|>", tok.Decode(ids));
        Assert.Equal([tok.ImEnd], tok.Encode("<|im_end|>"));
    }

    [Fact]
    public void Skip_special_drops_special_but_keeps_other_added_tokens()
    {
        var tok = Qwen2Subset;
        var ids = tok.Encode("<|im_start|>user<tool_call>x</tool_call><|im_end|>");
        Assert.Equal("user<tool_call>x</tool_call>", tok.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("<|im_start|>user<tool_call>x</tool_call><|im_end|>", tok.Decode(ids));
        Assert.False(tok.IsSpecial(tok.TokenToId("<tool_call>")!.Value));
    }

    [Fact]
    public void Untrained_characters_encode_through_byte_tokens()
    {
        var tok = Tiny;
        const string text = "ꙮ𓂀";
        var ids = tok.Encode(text);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), ids.Length);   // one id per byte
        Assert.All(ids, id => Assert.InRange(id, 0, 255));
        Assert.Equal(text, tok.Decode(ids));
        // Every byte value has a token, so no text can need <unk>.
        for (int b = 0; b < 256; b++) Assert.Equal(b, tok.TokenToId(ByteLevel.ByteToChar[ByteLevel.AlphabetOrder[b]].ToString()));
    }

    [Fact]
    public void Digits_are_split_one_per_token()
    {
        var tok = Qwen2Subset;
        var ids = tok.Encode("2024");
        Assert.Equal([17, 15, 17, 19], ids);
    }

    [Fact]
    public void Partial_utf8_decodes_to_replacement_character()
    {
        var tok = Tiny;
        var ids = tok.Encode("é");   // C3 A9
        int first = tok.TokenToId(ByteLevel.ByteToChar[0xC3].ToString())!.Value;
        Assert.Equal("\uFFFD", tok.Decode([first]));
        Assert.Equal("é", tok.Decode(ids));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([tok.VocabSize + 5]));
    }

    [Fact]
    public void Batch_is_right_padded_with_mask()
    {
        var tok = Qwen2Subset;
        var batch = tok.EncodeBatch(["Hello world", "<|im_start|>user\n", "Hello"]);
        Assert.Equal(3, batch.Count);
        Assert.Equal(3, batch.Length);
        Assert.Equal([2, 3, 1], batch.Lengths);
        Assert.Equal([9707, 1879, 151643, 151644, 872, 198, 9707, 151643, 151643], batch.Ids);
        Assert.Equal([true, true, false, true, true, true, true, false, false], batch.Mask);
        Assert.Equal([9707, 1879], batch.Row(0));

        var custom = tok.EncodeBatch(["Hello world", "Hello"], padId: -1, maxLength: 1);
        Assert.Equal(1, custom.Length);
        Assert.Equal([9707, 9707], custom.Ids);
        var padded = tok.EncodeBatch(["Hello world", "Hello"], padId: 0);
        Assert.Equal([9707, 1879, 9707, 0], padded.Ids);
        Assert.Equal([9707L, 1879, 9707, 0], padded.IdsAsInt64());
    }

    [Fact]
    public void Add_special_tokens_adds_nothing_for_qwen2()
    {
        var tok = Qwen2Subset;
        Assert.Equal(tok.Encode("Hello world", addSpecialTokens: false), tok.Encode("Hello world", addSpecialTokens: true));
    }

    [Fact]
    public void Qwen25vl_style_tokenizer_has_no_image_tokens()
    {
        var model = Qwen2Subset.Model;
        var withoutImage = model with { AddedTokens = model.AddedTokens.Where(a => a.Id < 151665).ToList() };
        var tok = Qwen2Tokenizer.FromModel(withoutImage);
        Assert.False(tok.HasImageTokens);
        var e = Assert.Throws<InvalidOperationException>(() => tok.ImgStart);
        Assert.Contains("<img>", e.Message);
        Assert.Equal([20092, 29], tok.Encode("<img>"));   // "<img" + ">", as Qwen2.5-VL's tokenizer gives
    }
}
