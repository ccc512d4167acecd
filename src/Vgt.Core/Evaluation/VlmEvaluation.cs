using System.Diagnostics;
using Vgt.Data.ShapesWorld;
using Vgt.Logging;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using Vgt.Training;

namespace Vgt.Evaluation;

/// <summary>
/// The fixed held-out set of `vgt eval vlm`: test-split scenes (scene seeds from <see cref="FirstSceneSeed"/> upwards,
/// uniform categories, 64 px), the first <see cref="Questions"/> of them with one question each (drawn uniformly from
/// the scene's non-caption questions with <c>VgtSeed(Seed).DotNetRandom("vlm-eval/question/{scene}")</c>), the next
/// <see cref="Captions"/> with the caption task. Greedy decoding, or beam search with <see cref="NumBeams"/> &gt; 1;
/// exact match after trimming.
/// </summary>
public sealed record VlmEvalOptions(
    int Questions = 1000,
    int Captions = 500,
    long Seed = 20251201,
    long FirstSceneSeed = 0,
    int BatchSize = 50,
    int MaxNewTokens = 48,
    int NumBeams = 1,
    double LengthPenalty = 1.0)
{
    /// <summary>How answers are decoded: greedy, or beam search of <see cref="NumBeams"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public GenerationOptions Generation => new() { MaxNewTokens = MaxNewTokens, NumBeams = NumBeams, LengthPenalty = LengthPenalty };

    public void Validate()
    {
        if (Questions < 0 || Captions < 0 || Questions + Captions == 0) throw new ArgumentException("the evaluation needs at least one question or caption (counts >= 0)");
        if (FirstSceneSeed < 0) throw new ArgumentException($"the first scene seed must be >= 0, got {FirstSceneSeed}");
        if (BatchSize < 1) throw new ArgumentException($"the batch size must be >= 1, got {BatchSize}");
        if (MaxNewTokens < 1) throw new ArgumentException($"max new tokens must be >= 1, got {MaxNewTokens}");
        Generation.Validate();
    }
}

/// <summary>One held-out item: the scene, the task, the question and the expected answer.</summary>
public sealed record VlmEvalItem(long SceneSeed, VlmTask Task, string Question, string Expected);

/// <summary>A wrong answer, for the report.</summary>
public sealed record VlmEvalMiss(long SceneSeed, string Question, string Expected, string Got);

/// <summary>Scores of one evaluation; per task: (correct, total).</summary>
public sealed record VlmEvalReport(
    VlmEvalOptions Options,
    int QuestionCount,
    double QuestionAccuracy,
    int CaptionCount,
    double CaptionAccuracy,
    IReadOnlyDictionary<string, (int Correct, int Total)> PerTask,
    IReadOnlyList<VlmEvalMiss> Misses,
    double Seconds)
{
    public string ToMarkdown()
    {
        var lines = new List<string>
        {
            "| set | items | exact match |",
            "|---|---|---|",
            $"| questions | {QuestionCount} | {QuestionAccuracy:0.0000} |",
            $"| captions | {CaptionCount} | {CaptionAccuracy:0.0000} |",
        };
        foreach (var (task, (c, t)) in PerTask) lines.Add($"| {task.ToLowerInvariant()} | {t} | {(t == 0 ? 0 : (double)c / t):0.0000} |");
        return string.Join("\n", lines);
    }
}

public static class VlmEvaluation
{
    /// <summary>The items of the fixed set (scenes are sampled, not rendered).</summary>
    public static IReadOnlyList<VlmEvalItem> BuildSet(VlmEvalOptions options)
    {
        options.Validate();
        var seed = new VgtSeed(options.Seed);
        var items = new List<VlmEvalItem>(options.Questions + options.Captions);
        long sceneSeed = options.FirstSceneSeed;
        long NextTestScene()
        {
            while (ShapesDataset.SplitOf(sceneSeed) != ShapesSplit.Test) sceneSeed++;
            return sceneSeed++;
        }
        for (int i = 0; i < options.Questions; i++)
        {
            long s = NextTestScene();
            var qa = ShapesText.Questions(ShapesSceneSampler.ForSceneSeed(s)).Where(q => q.Question != VlmTasks.CaptionQuestion).ToList();
            var pick = qa[seed.DotNetRandom($"vlm-eval/question/{s}").Next(qa.Count)];
            items.Add(new VlmEvalItem(s, VlmTasks.TaskOf(pick.Question), pick.Question, pick.Answer));
        }
        for (int i = 0; i < options.Captions; i++)
        {
            long s = NextTestScene();
            items.Add(new VlmEvalItem(s, VlmTask.Caption, VlmTasks.CaptionQuestion, ShapesText.Caption(ShapesSceneSampler.ForSceneSeed(s))));
        }
        return items;
    }

    /// <summary>Exact match after trimming surrounding white space.</summary>
    public static bool Matches(string got, string expected) => string.Equals(got.Trim(), expected.Trim(), StringComparison.Ordinal);

    /// <summary>Renders every scene, answers in batches (greedy or beam search) and scores.</summary>
    public static VlmEvalReport Run(InternVlChatModel model, VlmEvalOptions options, IProgressFactory? progress = null)
    {
        var items = BuildSet(options);
        progress ??= NullProgress.Instance;
        var clock = Stopwatch.StartNew();
        var dataset = new ShapesDataset(new ShapesDatasetOptions(ShapesSplit.Test));
        var correct = new bool[items.Count];
        var got = new string[items.Count];
        var generation = options.Generation;
        using (var bar = progress.Start("eval vlm", items.Count))
        {
            for (int start = 0; start < items.Count; start += options.BatchSize)
            {
                using var gcSafe = GcSafeRegion.Enter();
                using var scope = TorchSharp.torch.NewDisposeScope();
                var chunk = items.Skip(start).Take(options.BatchSize).ToList();
                var requests = chunk.Select(it => new ChatRequest(it.Question, [dataset.Get(it.SceneSeed).ImageTensor()])).ToList();
                var answers = model.Generate(requests, generation);
                for (int i = 0; i < chunk.Count; i++)
                {
                    got[start + i] = answers[i].Text;
                    correct[start + i] = Matches(answers[i].Text, chunk[i].Expected);
                }
                bar.Advance(chunk.Count);
            }
        }
        var perTask = new SortedDictionary<string, (int, int)>(StringComparer.Ordinal);
        foreach (var task in Enum.GetValues<VlmTask>())
        {
            var idx = Enumerable.Range(0, items.Count).Where(i => items[i].Task == task).ToList();
            if (idx.Count > 0) perTask[task.ToString()] = (idx.Count(i => correct[i]), idx.Count);
        }
        var questionIdx = Enumerable.Range(0, items.Count).Where(i => items[i].Task != VlmTask.Caption).ToList();
        var captionIdx = Enumerable.Range(0, items.Count).Where(i => items[i].Task == VlmTask.Caption).ToList();
        double Acc(List<int> idx) => idx.Count == 0 ? 0 : (double)idx.Count(i => correct[i]) / idx.Count;
        var misses = Enumerable.Range(0, items.Count).Where(i => !correct[i]).Take(50)
            .Select(i => new VlmEvalMiss(items[i].SceneSeed, items[i].Question, items[i].Expected, got[i])).ToList();
        return new VlmEvalReport(options, questionIdx.Count, Acc(questionIdx), captionIdx.Count, Acc(captionIdx),
            perTask, misses, clock.Elapsed.TotalSeconds);
    }
}
