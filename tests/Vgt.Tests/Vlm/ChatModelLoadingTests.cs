using System.Text.Json.Nodes;
using Vgt.Checkpoints;
using Vgt.Models.InternVl;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Tests.Vlm;

public class ChatModelLoadingTests
{
    static readonly ChatRequest Request = new("describe the image.", [VlmTestKit.Image(4)]);
    static readonly GenerationOptions Options = new() { MaxNewTokens = 6, StopTokenIds = [] };

    /// <summary>Saves a tiny model and rewrites its weights as a two-shard Hugging Face checkpoint with an index.</summary>
    static string ShardedDirectory(InternVlChatModel chat)
    {
        var dir = VlmTestKit.TempDir();
        chat.Save(dir);
        var single = Path.Combine(dir, "model.safetensors");
        var map = new JsonObject();
        using (var ck = CheckpointReader.Open(single))
        {
            var names = ck.Names.ToList();
            var shards = new[] { names.Where(n => !n.StartsWith("language_model.", StringComparison.Ordinal)), names.Where(n => n.StartsWith("language_model.", StringComparison.Ordinal)) };
            for (int s = 0; s < 2; s++)
            {
                var file = $"model-{s + 1:D5}-of-00002.safetensors";
                var tensors = shards[s].ToDictionary(n => n, n => ck.Load(n, null));
                SafetensorsWriter.Write(Path.Combine(dir, file), tensors, new Dictionary<string, string> { ["format"] = "pt" });
                foreach (var n in tensors.Keys) map[n] = file;
            }
        }
        File.Delete(single);
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"),
            new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = map }.ToJsonString());
        return dir;
    }

    [Fact]
    public void ASavedDirectoryLoadsBackWithTheSameAnswers()
    {
        using var chat = VlmTestKit.Model(seed: 21, tied: true);
        var dir = VlmTestKit.TempDir();
        chat.Save(dir);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        using (var ck = CheckpointReader.Open(dir))
        {
            Assert.Contains("vision_model.embeddings.patch_embedding.weight", ck.Names);
            Assert.Contains("mlp1.3.weight", ck.Names);
            Assert.Contains("language_model.model.layers.1.self_attn.k_proj.bias", ck.Names);
            Assert.DoesNotContain("language_model.lm_head.weight", ck.Names);   // tied: stored once, as HF does
        }
        using var loaded = InternVlChatModel.Load(dir);
        Assert.Equal(chat.Config, loaded.Config);
        Assert.Equal(chat.Generate([Request], Options)[0].TokenIds, loaded.Generate([Request], Options)[0].TokenIds);
        Assert.Empty(loaded.LoadReport!.Missing);
    }

    [Fact]
    public void AShardedHuggingFaceDirectoryLoadsByOriginalNames()
    {
        using var chat = VlmTestKit.Model(seed: 22);
        var dir = ShardedDirectory(chat);
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
        using var loaded = InternVlChatModel.Load(dir);
        var report = loaded.LoadReport!;
        Assert.True(report.IsComplete, report.ToString());
        Assert.Equal(chat.Model.state_dict().Count, report.Loaded.Count);
        Assert.Contains("language_model.lm_head.weight", report.Loaded);
        Assert.Equal(chat.Generate([Request], Options)[0].TokenIds, loaded.Generate([Request], Options)[0].TokenIds);
        using var scope = NewDisposeScope();
        var a = chat.Model.state_dict()["language_model.model.layers.0.mlp.down_proj.weight"];
        var b = loaded.Model.state_dict()["language_model.model.layers.0.mlp.down_proj.weight"];
        Assert.True(a.eq(b).all().item<bool>());
    }

    static void EditConfig(string dir, Action<JsonNode> edit)
    {
        var path = Path.Combine(dir, "config.json");
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    [Fact]
    public void ACheckpointThatDoesNotFitTheConfigIsRefusedNamingTheFirstMismatches()
    {
        using var chat = VlmTestKit.Model(seed: 23);
        var dir = ShardedDirectory(chat);
        EditConfig(dir, n => n["llm_config"]!["num_hidden_layers"] = 3);
        var e = Assert.Throws<CheckpointLoadException>(() => InternVlChatModel.Load(dir));
        Assert.Contains("missing: language_model.model.layers.2.", e.Message);
        Assert.Contains("does not fit config.json", e.Message);
        Assert.True(e.Report.Missing.Count > 0);

        var dir2 = ShardedDirectory(chat);
        EditConfig(dir2, n => n["llm_config"]!["intermediate_size"] = 48);
        var e2 = Assert.Throws<CheckpointLoadException>(() => InternVlChatModel.Load(dir2));
        Assert.Contains("shape mismatch: language_model.model.layers.0.mlp.gate_proj.weight: module [48, 32], checkpoint [64, 32]", e2.Message);

        var dir3 = ShardedDirectory(chat);
        EditConfig(dir3, n => n["vision_config"]!["num_hidden_layers"] = 0 + 0);
        Assert.Throws<Vgt.Config.ConfigValidationException>(() => InternVlChatModel.Load(dir3));
    }

    [Fact]
    public void ExtraTensorsAreUnexpected()
    {
        using var chat = VlmTestKit.Model(seed: 24);
        var dir = VlmTestKit.TempDir();
        chat.Save(dir);
        var path = Path.Combine(dir, "model.safetensors");
        Dictionary<string, Tensor> tensors;
        using (var ck = CheckpointReader.Open(path)) tensors = ck.Names.ToDictionary(n => n, n => ck.Load(n, null));
        tensors["language_model.model.layers.0.self_attn.rotary.extra"] = zeros(2);
        File.Delete(path);
        SafetensorsWriter.Write(path, tensors);
        var e = Assert.Throws<CheckpointLoadException>(() => InternVlChatModel.Load(dir));
        Assert.Contains("unexpected: language_model.model.layers.0.self_attn.rotary.extra", e.Message);
    }

    [Fact]
    public void MissingTokenizerFilesNameTheExpectedFiles()
    {
        using var chat = VlmTestKit.Model(seed: 25);
        var dir = VlmTestKit.TempDir();
        chat.Save(dir);
        foreach (var f in new[] { "tokenizer.json", "vocab.json", "merges.txt" }) File.Delete(Path.Combine(dir, f));
        var e = Assert.Throws<FileNotFoundException>(() => InternVlChatModel.Load(dir));
        Assert.Contains("'tokenizer.json'", e.Message);
        Assert.Contains("'vocab.json' + 'merges.txt'", e.Message);
    }

    [Fact]
    public void HubConfigJsonRoundTripsTinyAndRealConfigs()
    {
        foreach (var config in new[] { VlmTestKit.Config(400), InternVlConfig.InternVl3_1B, InternVlConfig.InternVl3_2B })
        {
            var back = InternVlHfConfig.Parse(InternVlHfConfig.ToJson(config));
            Assert.Equal(config, back);
        }
        var json = JsonNode.Parse(InternVlHfConfig.ToJson(InternVlConfig.InternVl3_1B))!;
        Assert.Equal("internvl_chat", (string)json["model_type"]!);
        Assert.Equal("qwen2", (string)json["llm_config"]!["model_type"]!);
        Assert.Equal(151674, (int)json["llm_config"]!["vocab_size"]!);
    }

    [Fact]
    public void RealConfigurationsInstantiateWithTheirShapesAndRefuseATinyTokenizerThatLacksNothing()
    {
        // shapes only (meta device): the real layouts build with the original names
        var model = new InternVlModel(InternVlConfig.InternVl3_1B, new Device(TorchSharp.DeviceType.META));
        var sd = model.state_dict();
        Assert.Equal([151674L, 896], sd["language_model.lm_head.weight"].shape);
        Assert.Equal([896L, 4096], sd["mlp1.1.weight"].shape);
        // a tokenizer without the image tokens cannot drive a chat model
        var noImages = BpeTrainer.Train(["a photo of a red circle"], new BpeTrainerOptions(300, [Qwen2SpecialTokens.EndOfText, Qwen2SpecialTokens.ImStart, Qwen2SpecialTokens.ImEnd]));
        var e = Assert.Throws<InvalidDataException>(() => InternVlChatModel.CreateRandom(VlmTestKit.Config(400), Qwen2Tokenizer.FromModel(noImages)));
        Assert.Contains("<IMG_CONTEXT>", e.Message);
    }
}
