using Vgt.Tokenization;
using static Vgt.Tests.Tokenization.TokenizerFixtures;

namespace Vgt.Tests.Tokenization;

public class BpeTrainerTests
{
    static string Corpus => File.ReadAllText(Dir("corpus.txt"));

    [Fact]
    public void Retraining_the_fixture_reproduces_its_files_byte_for_byte()
    {
        // The committed tiny tokenizer was written by `vgt tokenizer train --corpus corpus.txt --vocab-size 1024`.
        var model = BpeTrainer.Train([Corpus], new BpeTrainerOptions(1024), out var report);
        Assert.Equal(1024 - 256 - 6, report.Merges);
        using var dir = new TempDir();
        TokenizerFiles.Write(model, dir.Path);
        foreach (var f in new[] { "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.ReadAllBytes(Path.Combine(TinyDir, f)).AsSpan().SequenceEqual(File.ReadAllBytes(dir.File(f))), $"{f} differs");
    }

    [Fact]
    public void Same_corpus_gives_same_files()
    {
        var texts = Corpus.Split('\n').Take(150).ToArray();
        using var a = new TempDir();
        using var b = new TempDir();
        TokenizerFiles.Write(BpeTrainer.Train(texts, new BpeTrainerOptions(600)), a.Path);
        TokenizerFiles.Write(BpeTrainer.Train(texts.ToList(), new BpeTrainerOptions(600)), b.Path);
        foreach (var f in Directory.GetFiles(a.Path).Select(Path.GetFileName))
            Assert.True(File.ReadAllBytes(a.File(f!)).AsSpan().SequenceEqual(File.ReadAllBytes(b.File(f!))), $"{f} differs");
    }

    [Fact]
    public void Merges_most_frequent_pair_first_and_stops_below_min_count()
    {
        // Pieces: "ab" ×1, " ab" ×2, " cd" ×1 → (a,b)=3, (Ġ,ab)=2, then only count-1 pairs remain.
        var model = BpeTrainer.Train(["ab ab ab cd"], new BpeTrainerOptions(400, SpecialTokens: []), out var report);
        Assert.Equal([("a", "b"), ("Ġ", "ab")], model.Merges);
        Assert.Equal(2, report.Merges);
        Assert.Equal(258, model.Vocab.Count);
        Assert.Equal(256, model.Vocab["ab"]);
        Assert.Equal(257, model.Vocab["Ġab"]);
    }

    [Fact]
    public void Ties_go_to_the_pair_with_smaller_ids()
    {
        // Every pair occurs once; ids follow GPT-2's byte order ('!' = 0, 'a' = 64, 'x' = 87).
        var model = BpeTrainer.Train(["xy ab"], new BpeTrainerOptions(257, SpecialTokens: [], MinPairCount: 1));
        Assert.Equal([("a", "b")], model.Merges);
    }

    [Fact]
    public void Special_tokens_in_the_corpus_are_not_learned_and_come_last()
    {
        var corpus = string.Concat(Enumerable.Repeat("hi<|im_end|><img>", 50));
        var model = BpeTrainer.Train([corpus], new BpeTrainerOptions(300));
        Assert.DoesNotContain(model.Merges, m => (m.Left + m.Right).Contains('<') || (m.Left + m.Right).Contains('|'));
        Assert.Equal(Qwen2SpecialTokens.Default, model.AddedTokens.Select(a => a.Content));
        int firstSpecial = model.Vocab.Count;
        Assert.Equal(Enumerable.Range(firstSpecial, 6), model.AddedTokens.Select(a => a.Id));
        var tok = Qwen2Tokenizer.FromModel(model);
        Assert.Equal(firstSpecial + 2, tok.ImEnd);
        Assert.Equal(firstSpecial + 5, tok.ImgContext);
        Assert.Equal(firstSpecial, tok.PadId);
        Assert.Equal(tok.ImEnd, tok.EosId);
        Assert.Equal([tok.TokenToId("hi")!.Value, tok.ImEnd, tok.ImgStart], tok.Encode("hi<|im_end|><img>"));
    }

    [Fact]
    public void Trained_files_load_back_to_the_same_encoding()
    {
        var texts = Corpus.Split('\n').Take(100).ToArray();
        var model = BpeTrainer.Train(texts, new BpeTrainerOptions(512));
        using var dir = new TempDir();
        TokenizerFiles.Write(model, dir.Path);
        var loaded = Qwen2Tokenizer.Load(dir.Path);
        var inMemory = Qwen2Tokenizer.FromModel(model);
        foreach (var t in texts.Take(20)) Assert.Equal(inMemory.Encode(t), loaded.Encode(t));
        Assert.Equal(512, loaded.VocabSize);
    }

    [Fact]
    public void Too_small_vocab_is_rejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["x"], new BpeTrainerOptions(200)));
        Assert.Contains("256 byte symbols", e.Message);
    }
}
