using System.CommandLine;
using System.Text.Json;
using Vgt.Evaluation;
using Vgt.IO;
using Vgt.Runtime;
using Vgt.Training;

namespace Vgt.Cli.Commands;

/// <summary>`vgt eval vlm [--model DIR] [--llm-from GENERATOR]`: exact-match accuracy on the fixed held-out Shapes World set.</summary>
public static class EvalVlmCommand
{
    public static Command Build()
    {
        var defaults = new VlmEvalOptions();
        var model = new Option<string>("--model") { Description = "Model name under models/ or a directory.", DefaultValueFactory = _ => UnderstandCommand.DefaultModel };
        var questions = new Option<int>("--questions") { Description = "Held-out questions (one per test scene).", DefaultValueFactory = _ => defaults.Questions };
        var captions = new Option<int>("--captions") { Description = "Held-out captions (one per further test scene).", DefaultValueFactory = _ => defaults.Captions };
        var seed = new Option<long>("--seed") { Description = "Seed that picks each scene's question.", DefaultValueFactory = _ => defaults.Seed };
        var first = new Option<long>("--first-scene-seed") { Description = "Test-split scenes are taken from this scene seed upwards.", DefaultValueFactory = _ => defaults.FirstSceneSeed };
        var batch = new Option<int>("--batch-size") { Description = "Prompts decoded together.", DefaultValueFactory = _ => defaults.BatchSize };
        var beams = new Option<int>("--beams") { Description = "Beam search width (1 = greedy).", DefaultValueFactory = _ => defaults.NumBeams };
        var lengthPenalty = new Option<double>("--length-penalty") { Description = "Beam search: scores are sum(log p) / length^this.", DefaultValueFactory = _ => defaults.LengthPenalty };
        var report = new Option<string?>("--report") { Description = "Also write the full report (scores, options, misses) as JSON here." };
        var llmFrom = new Option<string?>("--llm-from")
        {
            Description = "A VGT generator (name under models/ or directory): evaluate --model's vision tower, mlp1 and tokenizer with this generator's tuned LLM (understanding after tuning).",
        };
        var threads = new Option<int>("--threads") { Description = "Torch threads.", DefaultValueFactory = _ => 2 };
        var cmd = new Command("vlm", "Exact-match accuracy on held-out Shapes World questions and captions (greedy or beam decoding, fixed seeds).")
            { model, llmFrom, questions, captions, seed, first, batch, beams, lengthPenalty, report, threads };
        cmd.SetAction(parse =>
        {
            TorchRuntime.Initialise(parse.GetValue(threads));
            var options = new VlmEvalOptions(parse.GetValue(questions), parse.GetValue(captions), parse.GetValue(seed), parse.GetValue(first), parse.GetValue(batch),
                NumBeams: parse.GetValue(beams), LengthPenalty: parse.GetValue(lengthPenalty));
            options.Validate();
            using var chat = parse.GetValue(llmFrom) is { } generator
                ? TunedVlm.Load(ModelCatalog.Resolve(parse.GetValue(model)!), ModelCatalog.Resolve(generator))
                : UnderstandCommand.LoadModel(parse.GetValue(model)!);
            if (parse.GetValue(llmFrom) is { } g) Console.WriteLine($"model: vision tower, mlp1 and tokenizer of {parse.GetValue(model)}, LLM of the generator {g}");
            var result = VlmEvaluation.Run(chat, options, ConsoleProgress.Create());
            Console.WriteLine(FormattableString.Invariant(
                $"held-out set: seed {options.Seed}, test-split scenes from {options.FirstSceneSeed}, {result.QuestionCount} questions, {result.CaptionCount} captions; {(options.NumBeams > 1 ? $"beam search {options.NumBeams}, length penalty {options.LengthPenalty}" : "greedy")}; {result.Seconds:F0} s"));
            Console.WriteLine(result.ToMarkdown());
            if (parse.GetValue(report) is { } path)
            {
                var json = JsonSerializer.Serialize(new
                {
                    options,
                    question_accuracy = result.QuestionAccuracy,
                    caption_accuracy = result.CaptionAccuracy,
                    per_task = result.PerTask.ToDictionary(kv => kv.Key, kv => new { correct = kv.Value.Correct, total = kv.Value.Total }),
                    misses = result.Misses,
                    seconds = result.Seconds,
                }, new JsonSerializerOptions { WriteIndented = true });
                AtomicFile.WriteAllText(path, json + "\n");
            }
            return 0;
        });
        return cmd;
    }
}
