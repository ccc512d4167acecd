using System.CommandLine;
using System.Globalization;
using Vgt.Tokenization;

namespace Vgt.Cli.Commands;

/// <summary>`vgt tokenizer train|encode|decode`: the project's byte-level BPE (Qwen2 layout).</summary>
public static class TokenizerCommand
{
    public static Command Build()
    {
        var cmd = new Command("tokenizer", "Train, inspect and use Qwen2-style byte-level BPE tokenizers.");
        cmd.Subcommands.Add(Train());
        cmd.Subcommands.Add(Encode());
        cmd.Subcommands.Add(Decode());
        return cmd;
    }

    static Command Train()
    {
        var corpus = new Option<FileInfo[]>("--corpus") { Description = "UTF-8 text files to learn from (each file is one text).", Required = true, AllowMultipleArgumentsPerToken = true };
        var vocabSize = new Option<int>("--vocab-size") { Description = "Total ids: 256 bytes + merges + special tokens.", DefaultValueFactory = _ => 2048 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for vocab.json, merges.txt, tokenizer.json, tokenizer_config.json.", Required = true };
        var cmd = new Command("train", "Learn BPE merges from text and write a tokenizer folder that Qwen2Tokenizer loads.") { corpus, vocabSize, output };
        cmd.SetAction(parse =>
        {
            var files = parse.GetValue(corpus)!;
            foreach (var f in files)
                if (!f.Exists) throw new FileNotFoundException($"Corpus file '{f.FullName}' does not exist.", f.FullName);
            var model = BpeTrainer.Train(files.Select(f => File.ReadAllText(f.FullName)),
                new BpeTrainerOptions(parse.GetValue(vocabSize)), out var report);
            var dir = parse.GetValue(output)!.FullName;
            TokenizerFiles.Write(model, dir);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"learned {report.Merges} merges from {report.PieceCount} pieces ({report.DistinctPieces} distinct) in {report.Elapsed.TotalSeconds:F2} s"));
            Console.WriteLine($"wrote {dir}");
            return 0;
        });
        return cmd;
    }

    static Option<DirectoryInfo> DirOption() => new("--tokenizer") { Description = "Tokenizer folder (tokenizer.json, or vocab.json + merges.txt).", Required = true };

    static Command Encode()
    {
        var dir = DirOption();
        var text = new Argument<string>("text") { Description = "Text to encode." };
        var cmd = new Command("encode", "Print the token ids and tokens of a text.") { dir, text };
        cmd.SetAction(parse =>
        {
            var tok = Qwen2Tokenizer.Load(parse.GetValue(dir)!.FullName);
            var ids = tok.Encode(parse.GetValue(text)!);
            Console.WriteLine(string.Join(' ', ids));
            Console.WriteLine(string.Join(' ', ids.Select(id => tok.IdToToken(id))));
            return 0;
        });
        return cmd;
    }

    static Command Decode()
    {
        var dir = DirOption();
        var ids = new Argument<int[]>("ids") { Description = "Token ids.", Arity = ArgumentArity.OneOrMore };
        var skip = new Option<bool>("--skip-special") { Description = "Drop special tokens." };
        var cmd = new Command("decode", "Print the text of token ids.") { dir, ids, skip };
        cmd.SetAction(parse =>
        {
            var tok = Qwen2Tokenizer.Load(parse.GetValue(dir)!.FullName);
            Console.WriteLine(tok.Decode(parse.GetValue(ids)!, parse.GetValue(skip)));
            return 0;
        });
        return cmd;
    }
}
