using System.Text.Json.Nodes;
using Vgt.Tokenization;
using static Vgt.Tests.Tokenization.TokenizerFixtures;

namespace Vgt.Tests.Tokenization;

public class TokenizerFilesTests
{
    [Fact]
    public void Missing_folder_names_the_expected_files()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => Qwen2Tokenizer.Load("/nonexistent/tokenizer/dir"));
        Assert.Contains("'tokenizer.json', or 'vocab.json' + 'merges.txt'", e.Message);
    }

    [Fact]
    public void Empty_folder_names_the_expected_files()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => Qwen2Tokenizer.Load(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("'tokenizer.json', or 'vocab.json' + 'merges.txt'", e.Message);
        Assert.Contains("none of them is there", e.Message);
    }

    [Fact]
    public void Vocab_without_merges_says_what_is_missing()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(TinyDir, "vocab.json"), dir.File("vocab.json"));
        var e = Assert.Throws<FileNotFoundException>(() => Qwen2Tokenizer.Load(dir.Path));
        Assert.Contains("found only 'vocab.json'", e.Message);
        Assert.Contains("merges.txt", e.Message);
    }

    static InvalidDataException LoadBroken(Action<JsonObject> edit)
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TinyDir, "tokenizer.json")))!.AsObject();
        edit(json);
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        return Assert.Throws<InvalidDataException>(() => Qwen2Tokenizer.Load(dir.Path));
    }

    [Fact]
    public void Malformed_tokenizer_json_is_reported()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", ");
        var e = Assert.Throws<InvalidDataException>(() => Qwen2Tokenizer.Load(dir.Path));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void Wrong_content_in_tokenizer_json_is_reported()
    {
        Assert.Contains("\"model\"", LoadBroken(j => j.Remove("model")).Message);
        Assert.Contains("WordPiece", LoadBroken(j => j["model"]!["type"] = "WordPiece").Message);
        Assert.Contains("model.merges[0]", LoadBroken(j => j["model"]!["merges"]![0] = "nospace").Message);
        Assert.Contains("not Qwen2's", LoadBroken(j => j["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"\w+").Message);
        Assert.Contains("normalizer", LoadBroken(j => j["normalizer"] = new JsonObject { ["type"] = "NFKC" }).Message);
        Assert.Contains("byte-level symbol", LoadBroken(j => j["model"]!["vocab"]!.AsObject().Remove("Ġ")).Message);
        Assert.Contains("merges do not fit", LoadBroken(j => j["model"]!["merges"]!.AsArray().Add("zz qq")).Message);
        Assert.Contains("lstrip", LoadBroken(j => j["added_tokens"]![0]!["lstrip"] = true).Message);
        Assert.Contains("share id", LoadBroken(j => j["added_tokens"]![1]!["id"] = j["added_tokens"]![0]!["id"]!.GetValue<int>()).Message);
    }

    [Fact]
    public void Malformed_merges_txt_names_the_line()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(TinyDir, "vocab.json"), dir.File("vocab.json"));
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\nĠ t\nbroken line here\n");
        var e = Assert.Throws<InvalidDataException>(() => Qwen2Tokenizer.Load(dir.Path));
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Slow_layout_reads_added_tokens_from_the_side_files()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(TinyDir, "vocab.json"), dir.File("vocab.json"));
        File.Copy(Path.Combine(TinyDir, "merges.txt"), dir.File("merges.txt"));
        File.WriteAllText(dir.File("added_tokens.json"), "{\"<|im_start|>\": 1019, \"<|im_end|>\": 1020, \"<extra>\": 1021}");
        File.WriteAllText(dir.File("special_tokens_map.json"), "{\"eos_token\": \"<|im_end|>\", \"additional_special_tokens\": [\"<|im_start|>\"]}");
        var tok = Qwen2Tokenizer.Load(dir.Path);
        Assert.Equal(1022, tok.EndOfText);   // Qwen2Tokenizer's default token, appended after the highest id
        Assert.Equal(1019, tok.ImStart);
        Assert.Equal(1020, tok.EosId);
        Assert.True(tok.IsSpecial(1020) && tok.IsSpecial(1019));
        Assert.False(tok.IsSpecial(1021));
        Assert.Equal([1021], tok.Encode("<extra>"));
        Assert.Equal(1022, tok.PadId);
    }
}
