using Vgt.Config;
using Vgt.Logging;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using Vgt.Tests.Vlm;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtTraining;

/// <summary>
/// The understanding mix of VGT training and "understanding after tuning": a tiny random InternVL directory (tied head,
/// the Shapes World BPE tokenizer of <see cref="VlmTestKit"/>) is init_from of a tiny generator.
/// </summary>
public sealed class QueryArUnderstandingTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("vgt-umix-").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static string Vlm(string root, bool tied = true)
    {
        var dir = Path.Combine(root, tied ? "vlm" : "vlm-untied");
        using var m = VlmTestKit.Model(seed: 3, tied: tied);
        m.Save(dir);
        return dir;
    }

    static QueryArTrainConfig Config(string root, string vlm, int every, int steps = 4)
    {
        var c = TinyVgt.Train(root, steps);
        var llm = VlmTestKit.Config(VlmTestKit.Tokenizer.VocabSize, tied: true).Llm;
        return c with
        {
            Model = c.Model with { Llm = llm },
            InitFrom = vlm,
            Tokenizer = null,
            Understanding = new QueryArUnderstandingConfig { Every = every, LossWeight = 0.5, Images = 2, SegmentsPerImage = 2 },
        };
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    const string LayerWeight = "lmm.language_model.model.layers.0.self_attn.q_proj.weight";

    [Fact]
    public void TheUnderstandingStepAddsTheVlmsOwnLossAndChangesTheLlmUpdate()
    {
        using var scope = NewDisposeScope();
        var vlm = Vlm(root);
        var on = Config(root, vlm, every: 2);
        var off = on with { Understanding = new QueryArUnderstandingConfig() };
        using var a = new QueryArTrainer(on, Path.Combine(root, "on"));
        using var b = new QueryArTrainer(off, Path.Combine(root, "off"));
        Assert.Null(b.Understanding);
        Assert.Equal([false, true, false, true, false, true], Enumerable.Range(0, 6).Select(s => a.Understanding!.IsStep(s)));

        a.TrainStep();
        b.TrainStep();
        Assert.Null(a.LastUnderstanding);                                      // step 0: generation only, in both runs
        Assert.True(Same(a.Model.state_dict()[LayerWeight], b.Model.state_dict()[LayerWeight]));

        // What step 1's understanding loss must be: shapes-vlm's own loss (VlmTrainer.Loss through the InternVL model) with the
        // LLM replaced by the generator's weights after step 0, on the batch of (seed, step 1).
        using var chat = InternVlChatModel.Load(vlm);
        TunedVlm.ReplaceLlm(chat, a.Model.state_dict(), "run a");
        var builder = new VlmBatchBuilder(new VgtSeed(on.Seed), new VlmBatchSpec(2, 2, 0.35, null), chat.Tokenizer, chat.Config);
        using var batch = builder.Build(1);
        var (expectedLoss, expectedAcc) = VlmTrainer.Loss(chat.Model, batch, chat.ImageContextId);
        double el = expectedLoss.item<float>(), ea = expectedAcc.item<float>();

        var (genA, _, _) = a.TrainStep();
        var (genB, _, _) = b.TrainStep();
        Assert.Null(b.LastUnderstanding);
        var (uLoss, uAcc) = a.LastUnderstanding!.Value;
        Assert.True(Math.Abs(uLoss - el) <= 1e-5 * el, $"understanding loss {uLoss} vs the VLM's {el}");
        Assert.Equal(ea, uAcc, 6);
        Assert.InRange(el, 3.0, 9.0);                                          // random 2-layer LM over ~400 ids: near ln V ≈ 6
        Assert.Equal(genB, genA);                                              // the generation loss itself is unchanged …
        Assert.False(Same(a.Model.state_dict()[LayerWeight], b.Model.state_dict()[LayerWeight]));   // … the LLM update is not
    }

    [Fact]
    public void BadUnderstandingConfigsAreRefused()
    {
        var vlm = Vlm(root);
        var noInit = Config(root, vlm, every: 2) with { InitFrom = null, Tokenizer = TinyVgt.TokenizerDir };
        var e1 = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(noInit, Path.Combine(root, "r1")));
        Assert.Equal("understanding.every", e1.Field);
        Assert.Contains("needs init_from", e1.Message);

        var untied = Vlm(root, tied: false);
        var e2 = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(Config(root, untied, every: 2), Path.Combine(root, "r2")));
        Assert.Contains("tied LM head", e2.Message);

        var diff = TunedVlm.TokenizerDifference(VlmTestKit.Tokenizer, Vgt.Tokenization.Qwen2Tokenizer.Load(TinyVgt.TokenizerDir));
        Assert.StartsWith($"vocabularies of {VlmTestKit.Tokenizer.Model.Vocab.Count} and", diff);
        Assert.Null(TunedVlm.TokenizerDifference(VlmTestKit.Tokenizer, Vgt.Tokenization.Qwen2Tokenizer.FromModel(VlmTestKit.Tokenizer.Model)));

        var e4 = Assert.Throws<ConfigValidationException>(() => new QueryArTrainer(Config(root, vlm, every: 2) with
            { Understanding = new QueryArUnderstandingConfig { Every = 2, Images = 0 } }, Path.Combine(root, "r4")));
        Assert.Equal("understanding.images", e4.Field);
    }

    [Fact]
    public void ResumeWithUnderstandingContinuesBitForBit()
    {
        using var scope = NewDisposeScope();
        var config = Config(root, Vlm(root), every: 2);
        Dictionary<string, Tensor> straight;
        using (var a = new QueryArTrainer(config, Path.Combine(root, "a")))
        {
            using var metrics = new MetricsLog(Path.Combine(root, "a", "metrics.jsonl"));
            a.Train(metrics);
            straight = a.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        }
        var rows = MetricsLog.ReadAll(Path.Combine(root, "a", "metrics.jsonl"));
        Assert.Equal([false, true, false, true], rows.Select(r => r.ContainsKey("understanding_loss")));   // steps 2 and 4 (log_every 1)
        Assert.All(rows.Where(r => r.ContainsKey("understanding_loss")), r =>
        {
            Assert.InRange(r["understanding_loss"].GetDouble(), 1.0, 10.0);
            Assert.InRange(r["understanding_accuracy"].GetDouble(), 0.0, 1.0);
            Assert.Equal(1, r["understanding_steps"].GetInt32());
        });

        using (var b = new QueryArTrainer(config, Path.Combine(root, "b")))
            b.Train(stopAt: 3);                                                // the understanding step 1 is before the stop, step 3 after
        using var c = new QueryArTrainer(config, Path.Combine(root, "b"));
        Assert.True(c.Resume());
        Assert.Equal(3, c.Step);
        c.Train();
        foreach (var (name, w) in straight)
            Assert.True(Same(w, c.Model.state_dict()[name]), $"{name} differs after resume");
    }

    [Fact]
    public void TheTunedVlmLoadsWithTheGeneratorsLlmAndMismatchesAreNamed()
    {
        using var scope = NewDisposeScope();
        var vlm = Vlm(root);
        var config = Config(root, vlm, every: 2, steps: 2);
        var generatorDir = Path.Combine(root, "generator");
        var tunedDir = Path.Combine(root, "run", "vlm");
        Dictionary<string, Tensor> ema;
        using (var t = new QueryArTrainer(config, Path.Combine(root, "run")))
        {
            t.Train();
            t.Export(generatorDir, "tiny-umix");
            Assert.True(t.ExportVlm(tunedDir));
            ema = t.Ema.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            Assert.False(Same(ema[LayerWeight], t.Model.state_dict()[LayerWeight]));   // EMA (start step 1) ≠ live weights
        }
        using var original = InternVlChatModel.Load(vlm);
        using var tuned = InternVlChatModel.Load(tunedDir);
        using var combined = TunedVlm.Load(vlm, generatorDir);
        var o = original.Model.state_dict();
        foreach (var model in new[] { tuned, combined })
        {
            var s = model.Model.state_dict();
            Assert.Equal(o.Keys.Order(), s.Keys.Order());
            foreach (var (name, w) in s)
            {
                if (name.StartsWith("language_model.model.", StringComparison.Ordinal))
                    Assert.True(Same(w, ema["lmm." + name]), $"{name} is not the tuned (EMA) decoder's");
                else if (name == "language_model.lm_head.weight")
                    Assert.True(Same(w, ema["lmm.language_model.model.embed_tokens.weight"]), "the tied head is not the tuned embedding");
                else
                    Assert.True(Same(w, o[name]), $"{name} is not the VLM's");
            }
            Assert.Null(TunedVlm.TokenizerDifference(model.Tokenizer, original.Tokenizer));
        }
        Assert.False(Same(o["language_model.model.layers.0.self_attn.q_proj.weight"], tuned.Model.state_dict()["language_model.model.layers.0.self_attn.q_proj.weight"]));

        // `vgt eval vlm` measures the exported RUN/vlm and VLM + --llm-from GENERATOR alike: the same answers, item for item.
        string Eval(string name, params string[] extra)
        {
            var report = Path.Combine(root, name + ".json");
            var (code, stdout, stderr) = Cli.CliRunner.Run(["eval", "vlm", .. extra, "--questions", "6", "--captions", "2", "--batch-size", "8", "--threads", "2", "--report", report]);
            Assert.True(code == 0, stderr);
            Assert.Contains("| questions | 6 |", stdout);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(report));
            var r = doc.RootElement;
            return $"{r.GetProperty("question_accuracy").GetDouble()} {r.GetProperty("caption_accuracy").GetDouble()} {r.GetProperty("misses").GetRawText()}";
        }
        var viaExport = Eval("export", "--model", tunedDir);
        Assert.Equal(viaExport, Eval("llm-from", "--model", vlm, "--llm-from", generatorDir));
        Assert.NotEqual(viaExport, Eval("untuned", "--model", vlm));

        // A generator whose LLM has another shape (TinyVgt: 1,024-id vocabulary) is refused, naming the first mismatch.
        var other = TinyVgt.Generator(Path.Combine(root, "other"));
        var e = Assert.Throws<InvalidDataException>(() => TunedVlm.Load(vlm, other));
        Assert.Contains($"shape mismatch: embed_tokens.weight: module [{VlmTestKit.Tokenizer.VocabSize}, 32], checkpoint [1024, 32]", e.Message);
        Assert.Throws<FileNotFoundException>(() => TunedVlm.Load(vlm, root));
        var (code, stdout, stderr) = Cli.CliRunner.Run("eval", "vlm", "--model", vlm, "--llm-from", other, "--questions", "1", "--captions", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("checkpoint [1024, 32]", stdout + stderr);
    }
}
