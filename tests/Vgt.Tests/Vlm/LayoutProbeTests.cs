using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Logging;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.Vlm;

public class LayoutProbeTests
{
    static InternVlConfig Tiny64(int vocab) => VlmTestKit.Tiny64(vocab);

    static long[] Longs(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void RelationTargetsPointAtTheShapeWordsTheAnswerPositionAndTheJudgesRelations()
    {
        var tok = VlmTestKit.Tokenizer;
        var config = Tiny64(tok.VocabSize);
        var builder = new VlmBatchBuilder(new VgtSeed(11), new VlmBatchSpec(Images: 8, SegmentsPerImage: 8, CaptionFraction: 0, null), tok, config, probeBins: 8);
        using var batch = builder.Build(step: 0);
        var relationRows = batch.Rows.Where(r => r.Task == VlmTask.Relation).ToList();
        Assert.NotEmpty(relationRows);
        var layout = batch.Layout!;
        int m = relationRows.Count;
        Assert.Equal(m, layout.AnswerIndex.shape[0]);
        Assert.Equal(2 * m, layout.PlaceIndex.shape[0]);                  // the A word and the B word
        Assert.Equal(2 * m, layout.RelationIndex.shape[0]);               // the B word and the answer position

        var ids = Longs(batch.InputIds.reshape(-1));
        var labels = Longs(batch.Labels.reshape(-1));
        var (place, placeBins, relation, answerIndex) = (Longs(layout.PlaceIndex), Longs(layout.PlaceBins), Longs(layout.RelationIndex), Longs(layout.AnswerIndex));
        var holds = layout.Holds.data<float>().ToArray();
        var examples = builder.Examples(0);
        for (int k = 0; k < m; k++)
        {
            var row = relationRows[k];
            string prompt = tok.Decode(row.Ids[(Array.IndexOf(row.Ids, tok.ImgEnd) + 1)..row.PromptLength]);
            int q = prompt.IndexOf("is the ", StringComparison.Ordinal);
            string question = prompt[q..(prompt.IndexOf('?', q) + 1)];
            var (a, b) = LayoutProbeTargetsBuilder.ShapesOf(question) ?? throw new Xunit.Sdk.XunitException($"not a relation question: {question}");
            string Word(long at) => tok.Decode([(int)ids[at]]);
            // the last token of each shape word, followed by the next word (a space) or the question mark
            Assert.EndsWith(Word(place[2 * k]).Trim(), a);
            Assert.StartsWith(" ", Word(place[2 * k] + 1));
            Assert.EndsWith(Word(place[2 * k + 1]).Trim(), b);
            Assert.Equal("?", Word(place[2 * k + 1] + 1));
            Assert.Equal(place[2 * k + 1], relation[2 * k]);
            Assert.Equal(answerIndex[k], relation[2 * k + 1]);
            // the answer position predicts the yes/no token, and the relation target agrees with that answer
            string answer = tok.Decode([(int)labels[answerIndex[k]]]);
            Assert.Contains(answer, new[] { "yes", "no" });
            int r = ShapesVocabulary.Relations.ToList().FindIndex(rel => question.Contains($" {rel} the ", StringComparison.Ordinal));
            Assert.Equal(answer == "yes" ? 1f : 0f, holds[(2 * k + 1) * 4 + r]);
            // A's bins are its centre's eighths of the canvas
            var objectA = examples[row.Image].Sample.Scene.Objects.Single(o => o.Shape == a);
            Assert.Equal((long)(objectA.CenterX / 8), placeBins[4 * k]);
            Assert.Equal((long)(objectA.CenterY / 8), placeBins[4 * k + 1]);
        }
    }

    [Fact]
    public void ABatchWithoutRelationQuestionsHasNoTargets()
    {
        var tok = VlmTestKit.Tokenizer;
        var builder = new VlmBatchBuilder(new VgtSeed(11), new VlmBatchSpec(2, 1, CaptionFraction: 1, null), tok, Tiny64(tok.VocabSize));
        using var batch = builder.Build(step: 0);                                        // captions only
        Assert.Null(batch.Layout);
        using var model = new InternVlModel(Tiny64(tok.VocabSize), generator: new Generator(1));
        using var probe = new LayoutProbe(new VlmLayoutProbeConfig(PositionLayer: 1, RelationLayer: 2), model.Config.Llm.HiddenSize, new Generator(2));
        var parts = VlmTrainer.LossParts(model.LanguageModel.Model, model.LanguageModel.Logits, model.ExtractFeature(batch.Pixels), batch, tok.ImgContext, probe);
        Assert.Null(parts.ProbeLoss);
        Assert.Null(parts.RelationAnswerAccuracy);
    }

    static VlmTrainConfig ProbeRun(int steps, VlmLayoutProbeConfig? probe, double captionFraction = 0) => new(
        Seed: 3,
        Model: Tiny64(400),
        Data: new VlmDataConfig(TokenizerScenes: 40, CaptionFraction: captionFraction, SegmentsPerImage: 8),
        Optim: new VlmOptimConfig(Steps: steps, BatchSize: 4, Lr: 1e-3, WarmupSteps: 1),
        Run: new VlmRunConfig(CheckpointEvery: 2, LogEvery: 1),
        LayoutProbe: probe);

    [Fact]
    public void TheProbeChangesTrainingAndResumesExactly()
    {
        var probe = new VlmLayoutProbeConfig(Weight: 0.5, PositionLayer: 1, RelationLayer: 2, Bins: 8);
        var (straight, split, plain) = (VlmTestKit.TempDir(), VlmTestKit.TempDir(), VlmTestKit.TempDir());
        VlmTrainer.Run(ProbeRun(4, probe, 0.5), straight, resume: false, NullProgress.Instance, TextWriter.Null);
        VlmTrainer.Run(ProbeRun(4, probe, 0.5), split, resume: false, NullProgress.Instance, TextWriter.Null, stopAfter: 2);
        Assert.True(File.Exists(Path.Combine(split, "checkpoints", "step-00000002", "extra.safetensors")));
        Assert.True(File.Exists(Path.Combine(split, "checkpoints", "step-00000002", "optimizer-probe.bin")));
        VlmTrainer.Run(ProbeRun(4, probe, 0.5), split, resume: true, NullProgress.Instance, TextWriter.Null);
        VlmTrainer.Run(ProbeRun(4, null, 0.5), plain, resume: false, NullProgress.Instance, TextWriter.Null);

        using var a = InternVlChatModel.Load(Path.Combine(straight, "model"));
        using var b = InternVlChatModel.Load(Path.Combine(split, "model"));
        using var c = InternVlChatModel.Load(Path.Combine(plain, "model"));
        var (sa, sb, sc) = (a.Model.state_dict(), b.Model.state_dict(), c.Model.state_dict());
        Assert.All(sa.Keys, k => Assert.True(sa[k].eq(sb[k]).all().item<bool>(), k));
        Assert.Contains(sa.Keys, k => k.StartsWith("language_model.", StringComparison.Ordinal) && !sa[k].eq(sc[k]).all().item<bool>());
        Assert.DoesNotContain(sa.Keys, k => k.Contains("probe", StringComparison.Ordinal));   // the probe is not part of the model

        var metrics = MetricsLog.ReadAll(Path.Combine(straight, "metrics.jsonl"));
        var withRelations = metrics.Where(m => m.ContainsKey("relation_accuracy")).ToList();   // a batch may have no relation question
        Assert.NotEmpty(withRelations);
        Assert.All(withRelations, m => Assert.True(double.IsFinite(m["probe_loss"].GetDouble())));
        Assert.All(withRelations, m => Assert.InRange(m["relation_accuracy"].GetDouble(), 0, 1));
        Assert.All(withRelations, m => Assert.InRange(m["probe_relation_accuracy"].GetDouble(), 0, 1));
        Assert.DoesNotContain(MetricsLog.ReadAll(Path.Combine(plain, "metrics.jsonl")), m => m.ContainsKey("probe_loss"));
    }

    [Fact]
    public void ProbeLayersBeyondTheLlmAreRefusedWithTheLimit()
    {
        var e = Assert.Throws<ConfigValidationException>(() => ProbeRun(4, new VlmLayoutProbeConfig(PositionLayer: 3, RelationLayer: 1)).Validate());
        Assert.Contains("layout_probe.position_layer", e.Message);
        Assert.Contains("(2)", e.Message);
        e = Assert.Throws<ConfigValidationException>(() => ProbeRun(4, new VlmLayoutProbeConfig(PositionLayer: 1, RelationLayer: 3)).Validate());
        Assert.Contains("layout_probe.relation_layer", e.Message);
        e = Assert.Throws<ConfigValidationException>(() => ProbeRun(4, new VlmLayoutProbeConfig(PositionLayer: 1, RelationLayer: 2, GroupLayer: 3)).Validate());
        Assert.Contains("layout_probe.group_layer", e.Message);
        Assert.Contains("(2)", e.Message);
    }

    [Fact]
    public void GroupTargetsPointAtThePositionThatPredictsEachGroupsCountWord()
    {
        var tok = VlmTestKit.Tokenizer;
        var config = Tiny64(tok.VocabSize);
        var builder = new VlmBatchBuilder(new VgtSeed(5), new VlmBatchSpec(Images: 8, SegmentsPerImage: 1, CaptionFraction: 1, null), tok, config,
            groupTargets: true);
        bool sawPair = false;
        for (int step = 0; step < 4; step++)
        {
            using var batch = builder.Build(step);
            var examples = builder.Examples(step);
            var layout = batch.Layout!;
            var labels = Longs(batch.Labels.reshape(-1));
            var (at, groups) = (Longs(layout.GroupIndex), Longs(layout.Groups));
            int width = (int)batch.InputIds.shape[1], k = 0;
            for (int image = 0; image < examples.Count; image++)
            {
                var (caption, expected, _) = ShapesText.CaptionLayout(examples[image].Sample.Scene);
                Assert.Equal(caption, examples[image].Qa.Single().Answer);                   // captions only
                foreach (var group in expected)
                {
                    Assert.Equal(image, at[k] / width);                                      // in the image's row
                    // from this position on, the labels spell the group: its count word comes next
                    var next = Enumerable.Range(0, 12).Select(d => labels[at[k] + d]).TakeWhile(id => id >= 0).Select(id => (int)id).ToArray();
                    Assert.StartsWith(group.Text, tok.Decode(next).TrimStart());
                    Assert.Equal([ShapesVocabulary.ColorIndex(group.Color), ShapesVocabulary.ShapeIndex(group.Shape), group.Count - 1],
                        groups[(3 * k)..(3 * k + 3)]);
                    sawPair |= group.Count > 1;
                    k++;
                }
            }
            Assert.Equal(k, at.Length);
            Assert.Equal(0, layout.AnswerIndex.shape[0]);                                    // no relation question: no relation targets
        }
        Assert.True(sawPair, "no group of two or more in the batches: pick another seed");
        // the builder without groups adds none
        using var plain = new VlmBatchBuilder(new VgtSeed(5), new VlmBatchSpec(8, 1, 1, null), tok, config).Build(step: 2);
        Assert.True(plain.Layout is null || plain.Layout.GroupIndex.shape[0] == 0);
    }

    [Fact]
    public void TheGroupHeadLearnsFromCaptionsAloneAndLeavesTheOtherHeadsAsTheyWere()
    {
        var tok = VlmTestKit.Tokenizer;
        var config = Tiny64(tok.VocabSize);
        using var model = new InternVlModel(config, generator: new Generator(1));
        var withGroups = new VlmLayoutProbeConfig(PositionLayer: 1, RelationLayer: 2, GroupLayer: 2);
        using var probe = new LayoutProbe(withGroups, config.Llm.HiddenSize, new Generator(2));
        using var without = new LayoutProbe(withGroups with { GroupLayer = null }, config.Llm.HiddenSize, new Generator(2));
        // the group head is created last: the place and relation heads start the same with or without it
        var (sp, sw) = (probe.state_dict(), without.state_dict());
        Assert.All(sw.Keys, key => Assert.True(sp[key].eq(sw[key]).all().item<bool>(), key));
        Assert.Contains(sp.Keys, key => !sw.ContainsKey(key));

        var builder = new VlmBatchBuilder(new VgtSeed(5), new VlmBatchSpec(4, 1, CaptionFraction: 1, null), tok, config, groupTargets: true);
        using var batch = builder.Build(step: 0);                                        // captions only: no relation targets
        var parts = VlmTrainer.LossParts(model.LanguageModel.Model, model.LanguageModel.Logits, model.ExtractFeature(batch.Pixels), batch, tok.ImgContext, probe);
        Assert.Null(parts.ProbeRelationAccuracy);
        Assert.InRange(parts.ProbeGroupAccuracy!.item<float>(), 0, 1);
        var loss = parts.ProbeLoss!;
        Assert.True(loss.item<float>() > 0 && float.IsFinite(loss.item<float>()));
        loss.backward();
        Assert.Contains(probe.named_parameters(), p => p.name.StartsWith("groups", StringComparison.Ordinal) && p.parameter.grad is { } g && g.abs().sum().item<float>() > 0);
        Assert.Contains(model.named_parameters(), p => p.name.StartsWith("language_model.", StringComparison.Ordinal) && p.parameter.grad is { } g && g.abs().sum().item<float>() > 0);
    }
}


public class RelationAnswerAccuracyTests
{
    [Fact]
    public void TheYesNoAccuracyIsTheLmHeadsArgmaxAtTheAnswerPositions()
    {
        var tok = VlmTestKit.Tokenizer;
        var config = VlmTestKit.Tiny64(tok.VocabSize);
        using var model = new InternVlModel(config, generator: new Generator(4));
        var builder = new VlmBatchBuilder(new VgtSeed(11), new VlmBatchSpec(Images: 8, SegmentsPerImage: 8, CaptionFraction: 0.5, null), tok, config);
        using var batch = builder.Build(step: 1);
        using var scope = NewDisposeScope();
        var features = model.ExtractFeature(batch.Pixels);
        var parts = VlmTrainer.LossParts(model.LanguageModel.Model, model.LanguageModel.Logits, features, batch, tok.ImgContext);

        // the same number from a plain forward: the logits at each answer position against its label
        var logits = model.LanguageModel.Logits(
            model.LanguageModel.Model.ForwardAllowed(InternVlModel.EmbedWithImages(model.LanguageModel.Model, batch.InputIds, features, tok.ImgContext),
                batch.Positions, batch.Allowed, null));
        var answer = batch.Layout!.AnswerIndex;
        var expected = logits.reshape(-1, logits.shape[2]).index_select(0, answer).argmax(-1)
            .eq(batch.Labels.reshape(-1).index_select(0, answer)).to_type(ScalarType.Float32).mean().item<float>();
        Assert.Equal(expected, parts.RelationAnswerAccuracy!.item<float>(), 6);
    }
}
