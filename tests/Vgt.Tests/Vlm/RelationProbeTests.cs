using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Logging;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.Vlm;

public class RelationProbeTests
{
    static InternVlConfig Tiny64(int vocab)
    {
        var c = VlmTestKit.Config(vocab);
        return c with { Vision = c.Vision with { PatchSize = 16, ImageSize = 64 }, ImageSize = 64 };
    }

    [Fact]
    public void TargetsPointAtTheShapeWordsTheAnswerPositionAndTheJudgesRelations()
    {
        var tok = VlmTestKit.Tokenizer;
        var config = Tiny64(tok.VocabSize);
        var builder = new VlmBatchBuilder(new VgtSeed(11), new VlmBatchSpec(Images: 8, SegmentsPerImage: 8, CaptionFraction: 0, null), tok, config, probeBins: 8);
        using var batch = builder.Build(step: 0);
        var relationRows = batch.Rows.Where(r => r.Task == VlmTask.Relation).ToList();
        Assert.NotEmpty(relationRows);
        var targets = batch.Relations!;
        Assert.Equal(relationRows.Count, targets.Count);

        var ids = batch.InputIds.reshape(-1).data<long>().ToArray();
        var labels = batch.Labels.reshape(-1).data<long>().ToArray();
        var aIndex = targets.AIndex.data<long>().ToArray();
        var bIndex = targets.BIndex.data<long>().ToArray();
        var answerIndex = targets.AnswerIndex.data<long>().ToArray();
        var holds = targets.Holds.data<float>().ToArray();
        var aBins = targets.ABins.data<long>().ToArray();
        var examples = builder.Examples(0);
        for (int m = 0; m < relationRows.Count; m++)
        {
            var row = relationRows[m];
            string prompt = tok.Decode(row.Ids[(Array.IndexOf(row.Ids, tok.ImgEnd) + 1)..row.PromptLength]);
            int q = prompt.IndexOf("is the ", StringComparison.Ordinal);
            string question = prompt[q..(prompt.IndexOf('?', q) + 1)];
            var (a, b) = RelationProbeTargetsBuilder.ShapesOf(question) ?? throw new Xunit.Sdk.XunitException($"not a relation question: {question}");
            string Word(long at) => tok.Decode([(int)ids[at]]);
            // the last token of each shape word, followed by the next word (a space) or the question mark
            Assert.EndsWith(Word(aIndex[m]).Trim(), a);
            Assert.StartsWith(" ", Word(aIndex[m] + 1));
            Assert.EndsWith(Word(bIndex[m]).Trim(), b);
            Assert.Equal("?", Word(bIndex[m] + 1));
            // the answer position predicts the yes/no token, and the probe's relation target agrees with that answer
            string answer = tok.Decode([(int)labels[answerIndex[m]]]);
            Assert.Contains(answer, new[] { "yes", "no" });
            string rel = ShapesVocabulary.Relations.Single(r => question.Contains($" {r} the "));
            int k = ShapesVocabulary.Relations.ToList().IndexOf(rel);
            Assert.Equal(answer == "yes" ? 1f : 0f, holds[m * 4 + k]);
            // A's column bin is its centre's eighth of the canvas
            var scene = examples[row.Image].Sample.Scene;
            var objectA = scene.Objects.Single(o => o.Shape == a);
            Assert.Equal((long)(objectA.CenterX / 8), aBins[m * 2]);
            Assert.Equal((long)(objectA.CenterY / 8), aBins[m * 2 + 1]);
        }
    }

    [Fact]
    public void ABatchWithoutRelationQuestionsHasNoTargets()
    {
        var tok = VlmTestKit.Tokenizer;
        var builder = new VlmBatchBuilder(new VgtSeed(11), new VlmBatchSpec(2, 1, CaptionFraction: 1, null), tok, Tiny64(tok.VocabSize));
        using var batch = builder.Build(step: 0);                                        // captions only
        Assert.Null(batch.Relations);
        using var model = new InternVlModel(Tiny64(tok.VocabSize), generator: new Generator(1));
        using var probe = new RelationProbe(model.Config.Llm.HiddenSize, 8, new Generator(2));
        var parts = VlmTrainer.LossParts(model.LanguageModel.Model, model.LanguageModel.Logits, model.ExtractFeature(batch.Pixels), batch, tok.ImgContext, probe, 1);
        Assert.Null(parts.ProbeLoss);
        Assert.Null(parts.RelationAnswerAccuracy);
    }

    static VlmTrainConfig ProbeRun(int steps, VlmRelationProbeConfig? probe) => new(
        Seed: 3,
        Model: Tiny64(400),
        Data: new VlmDataConfig(TokenizerScenes: 40, CaptionFraction: 0, SegmentsPerImage: 8),
        Optim: new VlmOptimConfig(Steps: steps, BatchSize: 4, Lr: 1e-3, WarmupSteps: 1),
        Run: new VlmRunConfig(CheckpointEvery: 2, LogEvery: 1),
        RelationProbe: probe);

    [Fact]
    public void TheProbeChangesTrainingAndResumesExactly()
    {
        var probe = new VlmRelationProbeConfig(Weight: 1.0, PositionLayer: 1, Bins: 8);
        var (straight, split, plain) = (VlmTestKit.TempDir(), VlmTestKit.TempDir(), VlmTestKit.TempDir());
        VlmTrainer.Run(ProbeRun(4, probe), straight, resume: false, NullProgress.Instance, TextWriter.Null);
        VlmTrainer.Run(ProbeRun(4, probe), split, resume: false, NullProgress.Instance, TextWriter.Null, stopAfter: 2);
        Assert.True(File.Exists(Path.Combine(split, "checkpoints", "step-00000002", "extra.safetensors")));
        Assert.True(File.Exists(Path.Combine(split, "checkpoints", "step-00000002", "optimizer-probe.bin")));
        VlmTrainer.Run(ProbeRun(4, probe), split, resume: true, NullProgress.Instance, TextWriter.Null);
        VlmTrainer.Run(ProbeRun(4, null), plain, resume: false, NullProgress.Instance, TextWriter.Null);

        using var a = InternVlChatModel.Load(Path.Combine(straight, "model"));
        using var b = InternVlChatModel.Load(Path.Combine(split, "model"));
        using var c = InternVlChatModel.Load(Path.Combine(plain, "model"));
        var (sa, sb, sc) = (a.Model.state_dict(), b.Model.state_dict(), c.Model.state_dict());
        Assert.All(sa.Keys, k => Assert.True(sa[k].eq(sb[k]).all().item<bool>(), k));
        Assert.Contains(sa.Keys, k => k.StartsWith("language_model.", StringComparison.Ordinal) && !sa[k].eq(sc[k]).all().item<bool>());
        Assert.DoesNotContain(sa.Keys, k => k.Contains("relation_probe", StringComparison.Ordinal));   // the probe is not part of the model

        var metrics = MetricsLog.ReadAll(Path.Combine(straight, "metrics.jsonl"));
        var withRelations = metrics.Where(m => m.ContainsKey("relation_accuracy")).ToList();   // a batch may have no relation question
        Assert.NotEmpty(withRelations);
        Assert.All(withRelations, m => Assert.True(double.IsFinite(m["probe_loss"].GetDouble())));
        Assert.All(withRelations, m => Assert.InRange(m["relation_accuracy"].GetDouble(), 0, 1));
        Assert.DoesNotContain(MetricsLog.ReadAll(Path.Combine(plain, "metrics.jsonl")), m => m.ContainsKey("probe_loss"));
    }

    [Fact]
    public void APositionLayerBeyondTheLlmIsRefusedWithTheLimit()
    {
        var e = Assert.Throws<ConfigValidationException>(() => ProbeRun(4, new VlmRelationProbeConfig(PositionLayer: 3)).Validate());
        Assert.Contains("relation_probe.position_layer", e.Message);
        Assert.Contains("(2)", e.Message);
    }
}
