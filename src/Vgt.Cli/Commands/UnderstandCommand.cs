using System.CommandLine;
using System.Globalization;
using Vgt.Checkpoints;
using Vgt.Models.InternVl;
using Vgt.Pipelines;
using Vgt.Runtime;

namespace Vgt.Cli.Commands;

/// <summary>`vgt caption IMAGE` and `vgt ask IMAGE "question"`: image understanding with an InternVL chat model.</summary>
public static class UnderstandCommand
{
    public const string DefaultModel = "shapes-vlm";

    public static Command BuildCaption()
    {
        var image = new Argument<string>("image") { Description = "Image file (PNG, JPEG, WebP, GIF, BMP); resized to the model's image size." };
        var (model, maxTokens, temperature, topP, seed, threads) = CommonOptions();
        var cmd = new Command("caption", "Describe an image (the question \"describe the image.\").") { image, model, maxTokens, temperature, topP, seed, threads };
        cmd.SetAction(parse => Run(parse, model, maxTokens, temperature, topP, seed, threads,
            (p, o) => p.Caption(parse.GetValue(image)!, o)));
        return cmd;
    }

    public static Command BuildAsk()
    {
        var image = new Argument<string>("image") { Description = "Image file (PNG, JPEG, WebP, GIF, BMP); resized to the model's image size." };
        var question = new Argument<string>("question") { Description = "The question, e.g. \"how many circles are there?\"" };
        var (model, maxTokens, temperature, topP, seed, threads) = CommonOptions();
        var cmd = new Command("ask", "Answer a question about an image.") { image, question, model, maxTokens, temperature, topP, seed, threads };
        cmd.SetAction(parse => Run(parse, model, maxTokens, temperature, topP, seed, threads,
            (p, o) => p.Ask(parse.GetValue(image)!, parse.GetValue(question)!, o)));
        return cmd;
    }

    static (Option<string>, Option<int>, Option<double>, Option<double>, Option<long>, Option<int>) CommonOptions() => (
        new Option<string>("--model") { Description = "Model name under models/ or an InternVL directory (config.json, safetensors, tokenizer files).", DefaultValueFactory = _ => DefaultModel },
        new Option<int>("--max-new-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 64 },
        new Option<double>("--temperature") { Description = "0 = greedy; otherwise sample at this temperature.", DefaultValueFactory = _ => 0.0 },
        new Option<double>("--top-p") { Description = "Nucleus sampling mass (with --temperature > 0).", DefaultValueFactory = _ => 1.0 },
        new Option<long>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 },
        new Option<int>("--threads") { Description = "Torch threads (0 = torch's default).", DefaultValueFactory = _ => 2 });

    static int Run(ParseResult parse, Option<string> model, Option<int> maxTokens, Option<double> temperature, Option<double> topP,
        Option<long> seed, Option<int> threads, Func<UnderstandingPipeline, GenerationOptions, ChatResponse> ask)
    {
        TorchRuntime.Initialise(parse.GetValue(threads));
        var options = new GenerationOptions
        {
            MaxNewTokens = parse.GetValue(maxTokens),
            Temperature = parse.GetValue(temperature),
            TopP = parse.GetValue(topP),
            Seed = parse.GetValue(seed),
        };
        options.Validate();
        using var pipeline = new UnderstandingPipeline(LoadModel(parse.GetValue(model)!));
        var answer = ask(pipeline, options);
        Console.WriteLine(answer.Text.Trim());
        if (answer.Stop == GenerationStop.Length)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"note: stopped after {answer.TokenIds.Length} tokens without <|im_end|> (--max-new-tokens)"));
        return 0;
    }

    /// <summary>Resolves and loads a chat model; a checkpoint that does not fit is a user error with the mismatches named.</summary>
    internal static InternVlChatModel LoadModel(string nameOrDirectory)
    {
        var dir = ModelCatalog.Resolve(nameOrDirectory);
        try
        {
            return InternVlChatModel.Load(dir);
        }
        catch (CheckpointLoadException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }
}
