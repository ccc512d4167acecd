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
        var common = new CommonOptions();
        var cmd = new Command("caption", "Describe an image (the question \"describe the image.\").") { image };
        common.AddTo(cmd);
        cmd.SetAction(parse => Run(parse, common, (p, o) => p.Caption(parse.GetValue(image)!, o)));
        return cmd;
    }

    public static Command BuildAsk()
    {
        var image = new Argument<string>("image") { Description = "Image file (PNG, JPEG, WebP, GIF, BMP); resized to the model's image size." };
        var question = new Argument<string>("question") { Description = "The question, e.g. \"how many circles are there?\"" };
        var common = new CommonOptions();
        var cmd = new Command("ask", "Answer a question about an image.") { image, question };
        common.AddTo(cmd);
        cmd.SetAction(parse => Run(parse, common, (p, o) => p.Ask(parse.GetValue(image)!, parse.GetValue(question)!, o)));
        return cmd;
    }

    /// <summary>The options `caption` and `ask` share: the model, how to decode, and the thread count.</summary>
    sealed class CommonOptions
    {
        public Option<string> Model { get; } = new("--model") { Description = "Model name under models/ or an InternVL directory (config.json, safetensors, tokenizer files).", DefaultValueFactory = _ => DefaultModel };
        public Option<int> MaxTokens { get; } = new("--max-new-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 64 };
        public Option<double> Temperature { get; } = new("--temperature") { Description = "0 = greedy; otherwise sample at this temperature.", DefaultValueFactory = _ => 0.0 };
        public Option<double> TopP { get; } = new("--top-p") { Description = "Nucleus sampling mass (with --temperature > 0).", DefaultValueFactory = _ => 1.0 };
        public Option<long> Seed { get; } = new("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        public Option<int> Beams { get; } = new("--beams") { Description = "Beam search width (1 = no beam search; needs temperature 0).", DefaultValueFactory = _ => 1 };
        public Option<double> LengthPenalty { get; } = new("--length-penalty") { Description = "Beam search: a finished answer scores sum(log p) / length^this.", DefaultValueFactory = _ => 1.0 };
        public Option<int> Threads { get; } = new("--threads") { Description = "Torch threads (0 = torch's default).", DefaultValueFactory = _ => 2 };

        public void AddTo(Command cmd)
        {
            foreach (Option o in new Option[] { Model, MaxTokens, Temperature, TopP, Seed, Beams, LengthPenalty, Threads }) cmd.Options.Add(o);
        }

        public GenerationOptions Generation(ParseResult parse) => new()
        {
            MaxNewTokens = parse.GetValue(MaxTokens),
            Temperature = parse.GetValue(Temperature),
            TopP = parse.GetValue(TopP),
            Seed = parse.GetValue(Seed),
            NumBeams = parse.GetValue(Beams),
            LengthPenalty = parse.GetValue(LengthPenalty),
        };
    }

    static int Run(ParseResult parse, CommonOptions common, Func<UnderstandingPipeline, GenerationOptions, ChatResponse> ask)
    {
        TorchRuntime.Initialise(parse.GetValue(common.Threads));
        var options = common.Generation(parse);
        options.Validate();
        using var pipeline = new UnderstandingPipeline(LoadModel(parse.GetValue(common.Model)!));
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
