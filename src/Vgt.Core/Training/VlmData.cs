using Vgt.Data.ShapesWorld;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>The understanding tasks of Shapes World (shapes-world.md §6), by question form.</summary>
public enum VlmTask
{
    Caption,
    Count,
    Color,
    Shape,
    Relation,
}

/// <summary>Question forms and the prompts shared by training, evaluation and the tokenizer corpus.</summary>
public static class VlmTasks
{
    /// <summary>The caption task's question (spec §6).</summary>
    public const string CaptionQuestion = Pipelines.UnderstandingPipeline.CaptionQuestion;

    /// <summary>VGT's text-to-image prompt and its CFG-branch prompt (backbones.md §3.6), kept in the vocabulary for VGT-AR.</summary>
    public const string GeneratePrefix = "Generate an image: ";
    public const string GenerateUnconditional = "Generate an image.";

    public static VlmTask TaskOf(string question) =>
        question == CaptionQuestion ? VlmTask.Caption
        : question.StartsWith("how many ", StringComparison.Ordinal) ? VlmTask.Count
        : question.StartsWith("what color ", StringComparison.Ordinal) ? VlmTask.Color
        : question.StartsWith("what shape ", StringComparison.Ordinal) ? VlmTask.Shape
        : question.StartsWith("is the ", StringComparison.Ordinal) ? VlmTask.Relation
        : throw new ArgumentException($"'{question}' is not a Shapes World question form");

    /// <summary>
    /// Texts to learn shapes-vlm's BPE vocabulary from: for the train-split scenes from seed 0 upwards, every
    /// question/answer in the chat template (user turn with an empty image, assistant answer), the scene's prompt in
    /// VGT's generation template, the unconditional generation prompt, and a system turn.
    /// </summary>
    public static IEnumerable<string> TokenizerCorpus(int scenes, IReadOnlyDictionary<string, double>? categoryWeights = null)
    {
        var template = InternVlChatTemplate.Vgt;
        yield return InternVlChatTemplate.InternVl2_5.Prompt("hello") + "hello" + Qwen2SpecialTokens.ImEnd;
        int taken = 0;
        for (long seed = 0; taken < scenes; seed++)
        {
            if (ShapesDataset.SplitOf(seed) != ShapesSplit.Train) continue;
            taken++;
            var scene = ShapesSceneSampler.ForSceneSeed(seed, categoryWeights);
            foreach (var qa in ShapesText.Questions(scene))
                yield return template.Prompt(qa.Question, 1, 1) + InternVlChatTemplate.AnswerText(qa.Answer);
            yield return template.Prompt(GeneratePrefix + scene.Prompt.Text) + Qwen2SpecialTokens.ImgStart;
            if (taken % 16 == 0) yield return template.Prompt(GenerateUnconditional) + Qwen2SpecialTokens.ImgStart;
        }
    }
}

/// <summary>What the data side of VLM training needs from the config.</summary>
/// <param name="Images">Scenes (images) per batch.</param>
/// <param name="SegmentsPerImage">Most question–answer segments packed after each image.</param>
/// <param name="CaptionFraction">Probability that an image's segments include the caption task.</param>
public sealed record VlmBatchSpec(int Images, int SegmentsPerImage, double CaptionFraction, IReadOnlyDictionary<string, double>? CategoryWeights);

/// <summary>One single-turn example as it appears at inference: image index, prompt + answer ids, prompt length.</summary>
public sealed record VlmRow(int Image, int[] Ids, int PromptLength, VlmTask Task);

/// <summary>
/// One packed training batch. Row i holds image i's shared prefix (the prompt up to <c>&lt;/img&gt;</c>) followed by
/// several question–answer segments; <see cref="Allowed"/> lets each segment see the prefix and itself only, and
/// <see cref="Positions"/> restart every segment right after the prefix, so each segment is computed exactly as the
/// single-turn example <c>prefix + segment</c> would be (see <see cref="Rows"/>), while the image and the prefix are
/// computed once. <see cref="Pixels"/> [B,3,S,S] normalised; ids, positions, labels [B,T]; allowed [B,1,T,T] bool;
/// labels are −100 except where the next token is an answer token or the closing <c>&lt;|im_end|&gt;</c>.
/// <see cref="Layout"/>: what the layout probe reads in the batch (null when there is nothing to read).
/// </summary>
public sealed record VlmBatch(Tensor Pixels, Tensor InputIds, Tensor Positions, Tensor Allowed, Tensor Labels, IReadOnlyList<VlmRow> Rows,
    LayoutProbeTargets? Layout = null) : IDisposable
{
    public void Dispose()
    {
        Layout?.Dispose();
        Pixels.Dispose();
        InputIds.Dispose();
        Positions.Dispose();
        Allowed.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// Builds packed training batches from Shapes World train-split scenes. Everything random in batch <c>step</c> comes
/// from <c>seed.DotNetRandom("vlm-batch/{step}")</c>, so a resumed run sees exactly the batches it would have seen.
/// Each image gets the caption task with probability <see cref="VlmBatchSpec.CaptionFraction"/>, and distinct
/// questions drawn uniformly from the scene's questions up to <see cref="VlmBatchSpec.SegmentsPerImage"/> segments.
/// </summary>
public sealed class VlmBatchBuilder
{
    public const long IgnoreIndex = -100;

    readonly VgtSeed seed;
    readonly VlmBatchSpec spec;
    readonly Qwen2Tokenizer tokenizer;
    readonly InternVlChatTemplate template;
    readonly int tokensPerImage;
    readonly int imageSize;
    readonly ShapesDataset dataset;
    readonly Dictionary<string, int[]> promptCache = new(StringComparer.Ordinal);
    readonly Dictionary<string, (int A, int B)> shapeWordCache = new(StringComparer.Ordinal);
    readonly int probeBins;
    readonly bool groupTargets;

    /// <param name="probeBins">Bins per canvas axis of the layout probe's place targets (<see cref="VlmBatch.Layout"/>).</param>
    /// <param name="groupTargets">Whether the layout probe's targets include the caption groups (its group head).</param>
    public VlmBatchBuilder(VgtSeed seed, VlmBatchSpec spec, Qwen2Tokenizer tokenizer, InternVlConfig config, int probeBins = 8, bool groupTargets = false)
    {
        if (spec.Images < 1 || spec.SegmentsPerImage < 1)
            throw new ArgumentException($"a batch needs >= 1 image and >= 1 segment per image, got {spec.Images} and {spec.SegmentsPerImage}");
        this.seed = seed;
        this.spec = spec;
        this.tokenizer = tokenizer;
        template = InternVlChatTemplate.ForName(config.Template);
        tokensPerImage = config.NumImageTokens;
        imageSize = config.ImageSize;
        this.probeBins = probeBins;
        this.groupTargets = groupTargets;
        dataset = new ShapesDataset(new ShapesDatasetOptions(ShapesSplit.Train, ShapesVocabulary.CanvasSize, spec.CategoryWeights));
    }

    /// <summary>Ids of the prompt for <paramref name="question"/> about one image.</summary>
    public int[] PromptIds(string question)
    {
        if (!promptCache.TryGetValue(question, out var ids))
            promptCache[question] = ids = tokenizer.Encode(template.Prompt(question, 1, tokensPerImage));
        return ids;
    }

    /// <summary>
    /// Prompt-token indices of the last token of the A word and of the B word of relation question
    /// <paramref name="question"/>: the prompt cut right after the word is encoded, and its length is the index + 1 (the
    /// pre-tokenizer splits at the space that follows, so the cut prompt's ids are a prefix of the whole prompt's).
    /// </summary>
    public (int A, int B) ShapeWordTokens(string question)
    {
        if (shapeWordCache.TryGetValue(question, out var found)) return found;
        var (aEnd, bEnd) = LayoutProbeTargetsBuilder.WordEnds(question);
        return shapeWordCache[question] = (WordToken(question, aEnd), WordToken(question, bEnd));
    }

    /// <summary>The prompt-token index of the token that ends at character <paramref name="end"/> of <paramref name="question"/> (a word's end).</summary>
    int WordToken(string question, int end)
    {
        var text = template.Prompt(question, 1, tokensPerImage);
        int at = text.LastIndexOf(question, StringComparison.Ordinal);
        var full = PromptIds(question);
        var ids = tokenizer.Encode(text[..(at + end)]);
        if (ids.Length > full.Length || !ids.AsSpan().SequenceEqual(full.AsSpan(0, ids.Length)))
            throw new InvalidOperationException($"the tokenizer does not split '{question}' at character {end}");
        return ids.Length - 1;
    }

    /// <summary>
    /// For each group of <paramref name="caption"/> (group count words at character offsets <paramref name="starts"/>),
    /// the answer-token index of the position that predicts its count word: the last token of the text before it (−1:
    /// the prompt's last token). The text is cut just before the space that precedes the word, where the pre-tokenizer
    /// splits, so the cut text's ids are a prefix of <paramref name="answer"/>, the ids of the answer text (already
    /// encoded by the caller).
    /// </summary>
    public int[] GroupCountPredictors(string caption, IReadOnlyList<int> starts, ReadOnlySpan<int> answer)
    {
        var at = new int[starts.Count];
        for (int g = 0; g < starts.Count; g++)
        {
            if (starts[g] == 0) { at[g] = -1; continue; }
            var ids = tokenizer.Encode(caption[..(starts[g] - 1)]);
            if (ids.Length >= answer.Length || !ids.AsSpan().SequenceEqual(answer[..ids.Length]))
                throw new InvalidOperationException($"the tokenizer does not split '{caption}' at character {starts[g] - 1}");
            at[g] = ids.Length - 1;
        }
        return at;
    }

    /// <summary>A train-split scene seed drawn from <paramref name="rng"/>.</summary>
    public static long DrawTrainScene(Random rng)
    {
        while (true)
        {
            long s = rng.NextInt64(0, 1L << 40);
            if (ShapesDataset.SplitOf(s) == ShapesSplit.Train) return s;
        }
    }

    /// <summary>The scenes of batch <paramref name="step"/> and the question–answer pairs of each.</summary>
    public IReadOnlyList<(ShapesSample Sample, IReadOnlyList<QaPair> Qa)> Examples(long step)
    {
        var rng = seed.DotNetRandom($"vlm-batch/{step}");
        var list = new List<(ShapesSample, IReadOnlyList<QaPair>)>(spec.Images);
        for (int i = 0; i < spec.Images; i++)
        {
            var sample = dataset.Get(DrawTrainScene(rng));
            var questions = sample.Qa.Where(q => q.Question != VlmTasks.CaptionQuestion).ToList();
            var chosen = new List<QaPair>(spec.SegmentsPerImage);
            if (rng.NextDouble() < spec.CaptionFraction) chosen.Add(sample.Qa.Single(q => q.Question == VlmTasks.CaptionQuestion));
            while (chosen.Count < spec.SegmentsPerImage && questions.Count > 0)
            {
                int pick = rng.Next(questions.Count);
                chosen.Add(questions[pick]);
                questions.RemoveAt(pick);
            }
            list.Add((sample, chosen));
        }
        return list;
    }

    /// <summary>
    /// The model's pixel input for rendered scenes: [B,3,S,S] ImageNet-normalised, resized (bicubic, antialiased) when the
    /// model's image size S is not the canvas size. The caller owns the tensor.
    /// </summary>
    public static Tensor Pixels(IEnumerable<ShapesSample> samples, int imageSize)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>();
        foreach (var sample in samples)
        {
            var img = sample.ImageTensor();                                              // [3,64,64] in [−1,1]
            if (img.shape[1] != imageSize || img.shape[2] != imageSize)
                img = Imaging.ImageTransforms.Resize(img, imageSize, imageSize, Imaging.ResizeFilter.Bicubic, antialias: true).clamp(-1, 1);
            images.Add(img);
        }
        return ImageNetNormalize.FromSigned(stack(images.ToArray())).MoveToOuterDisposeScope();
    }

    /// <summary>The tensors of batch <paramref name="step"/> (the caller owns them).</summary>
    public VlmBatch Build(long step) => Pack(Examples(step));

    /// <summary>Packs scenes and their question–answer pairs into a batch.</summary>
    public VlmBatch Pack(IReadOnlyList<(ShapesSample Sample, IReadOnlyList<QaPair> Qa)> examples)
    {
        int imgEnd = tokenizer.ImgEnd;
        var rows = new List<VlmRow>();
        var packed = new List<(List<long> Ids, List<long> Pos, List<int> Seg, List<long> Labels)>();
        var probe = new LayoutProbeTargetsBuilder(probeBins);
        for (int i = 0; i < examples.Count; i++)
        {
            var (ids, pos, seg, labels) = (new List<long>(), new List<long>(), new List<int>(), new List<long>());
            int prefix = -1;
            int segment = 0;
            foreach (var qa in examples[i].Qa)
            {
                var prompt = PromptIds(qa.Question);
                int[] full = [.. prompt, .. tokenizer.Encode(InternVlChatTemplate.AnswerText(qa.Answer))];
                rows.Add(new VlmRow(i, full, prompt.Length, VlmTasks.TaskOf(qa.Question)));
                int p = Array.IndexOf(prompt, imgEnd) + 1;                              // shared prefix: … </img>
                if (p <= 0) throw new InvalidOperationException("the prompt has no </img>");
                if (prefix < 0)
                {
                    prefix = p;
                    for (int t = 0; t < p; t++) { ids.Add(full[t]); pos.Add(t); seg.Add(0); labels.Add(IgnoreIndex); }
                }
                else if (p != prefix || !full.AsSpan(0, p).SequenceEqual(rows[^2].Ids.AsSpan(0, p)))
                    throw new InvalidOperationException("the prompts of one image do not share their prefix");
                segment++;
                long token0 = ids.Count - p;                                                 // token t ≥ p of the segment sits at token0 + t in its row
                if (LayoutProbeTargetsBuilder.ShapesOf(qa.Question) is var (shapeA, shapeB))
                {
                    var objects = examples[i].Sample.Scene.Objects;
                    var (aToken, bToken) = ShapeWordTokens(qa.Question);
                    probe.AddRelation(new RelationSegment(aToken, bToken, objects.Single(o => o.Shape == shapeA), objects.Single(o => o.Shape == shapeB)),
                        token0, prompt.Length, row: i);
                }
                if (groupTargets && qa.Question == VlmTasks.CaptionQuestion)
                {
                    var (caption, groups, starts) = ShapesText.CaptionLayout(examples[i].Sample.Scene);
                    if (caption != qa.Answer) throw new InvalidOperationException($"the caption '{qa.Answer}' is not the scene's ('{caption}')");
                    var predictors = GroupCountPredictors(caption, starts, full.AsSpan(prompt.Length));
                    for (int g = 0; g < groups.Count; g++)
                        probe.AddGroup(groups[g], token0 + prompt.Length + predictors[g], row: i);
                }
                for (int t = p; t < full.Length; t++)
                {
                    ids.Add(full[t]);
                    pos.Add(t);
                    seg.Add(segment);
                    // position t predicts token t+1 of the same segment: the answer tokens and the closing <|im_end|>
                    labels.Add(t + 1 >= prompt.Length && t + 1 < full.Length ? full[t + 1] : IgnoreIndex);
                }
                // the prefix's last position predicts the segment's first token only when that is an answer token (never: it is the question)
            }
            packed.Add((ids, pos, seg, labels));
        }

        int b = packed.Count, width = packed.Max(r => r.Ids.Count);
        var idArr = new long[b * width];
        var posArr = new long[b * width];
        var labelArr = new long[b * width];
        var allowed = new bool[b * width * width];
        Array.Fill(idArr, tokenizer.PadId);
        Array.Fill(labelArr, IgnoreIndex);
        for (int r = 0; r < b; r++)
        {
            var (ids, pos, seg, labels) = packed[r];
            int n = ids.Count;
            for (int i = 0; i < width; i++)
            {
                if (i < n)
                {
                    idArr[r * width + i] = ids[i];
                    posArr[r * width + i] = pos[i];
                    labelArr[r * width + i] = labels[i];
                }
                int si = i < n ? seg[i] : -1;                     // padding queries see the prefix only
                long rowBase = ((long)r * width + i) * width;
                for (int j = 0; j <= Math.Min(i, n - 1); j++)
                    allowed[rowBase + j] = seg[j] == 0 || seg[j] == si;
            }
        }

        var layout = probe.Build(width);                                                   // outside the scope below: the batch owns it

        using var scope = NewDisposeScope();
        var pixels = Pixels(examples.Select(e => e.Sample), imageSize);                 // [B,3,S,S]
        return new VlmBatch(
            pixels.MoveToOuterDisposeScope(),
            tensor(idArr).view(b, width).MoveToOuterDisposeScope(),
            tensor(posArr).view(b, width).MoveToOuterDisposeScope(),
            tensor(allowed).view(b, 1, width, width).MoveToOuterDisposeScope(),
            tensor(labelArr).view(b, width).MoveToOuterDisposeScope(),
            rows,
            layout);
    }
}
