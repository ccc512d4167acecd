using System.CommandLine;
using System.Globalization;
using System.Text;
using Vgt.Config;
using Vgt.Logging;
using Vgt.Training;

namespace Vgt.Cli.Commands;

/// <summary>
/// `vgt train vgt --config FILE [--out RUN] [--resume] [--export DIR]`: VGT-AR training (resumable). At the end it writes the
/// generator (DIR, default RUN/generator) and, with an InternVL init_from, RUN/vlm (the VLM with the tuned LLM).
/// </summary>
public static class TrainVgtCommand
{
    public static Command Build()
    {
        var config = new Option<string>("--config") { Description = "Training config (JSON), e.g. configs/shapes-vgt.json", Required = true };
        var outDir = new Option<string?>("--out") { Description = "Run folder: checkpoints/, metrics.jsonl, latents.safetensors (default runs/<config name>)" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the run folder's latest checkpoint" };
        var export = new Option<string?>("--export") { Description = "Generator directory to write when training is complete (default RUN/generator)" };
        var name = new Option<string?>("--name") { Description = "Model id of the exported generator (default: the config file's name)" };
        var stopAfter = new Option<long?>("--stop-after") { Description = "Stop (with a checkpoint) after this many steps in this session; resume later" };
        var cmd = new Command("vgt", "Train the VGT-AR generator (QueryAR) on Shapes World latents of a frozen AE.") { config, outDir, resume, export, name, stopAfter };
        cmd.SetAction(parse =>
        {
            string configPath = parse.GetValue(config)!;
            var cfg = ConfigJson.Load<QueryArTrainConfig>(configPath);
            string stem = Path.GetFileNameWithoutExtension(configPath);
            string run = parse.GetValue(outDir) ?? Path.Combine("runs", stem);
            var cts = new CancellationTokenSource();
            if (parse.GetValue(stopAfter) is { } n && n < 1) throw new ArgumentException($"--stop-after must be ≥ 1, got {n}");
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); Console.Error.WriteLine("stopping after this step (checkpoint follows)…"); };
            Console.CancelKeyPress += onCancel;
            try
            {
                using var trainer = new QueryArTrainer(cfg, run, ConsoleProgress.Create(), Console.Out) { Cancellation = cts.Token };
                bool hasCheckpoints = trainer.Checkpoints.Latest() is not null;
                if (hasCheckpoints && !parse.GetValue(resume))
                    throw new ArgumentException($"run folder {Path.GetFullPath(run)} already has checkpoints; pass --resume to continue it or choose another --out");
                if (parse.GetValue(resume)) trainer.Resume();
                long? stopAt = parse.GetValue(stopAfter) is { } stop ? trainer.Step + stop : null;
                return Finish(trainer, run, parse.GetValue(export), parse.GetValue(name) ?? stem, configPath, stopAt);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return cmd;
    }

    static int Finish(QueryArTrainer trainer, string run, string? export, string name, string configPath, long? stopAt)
    {
        using var metrics = new MetricsLog(Path.Combine(run, "metrics.jsonl"));
        var summary = trainer.Train(metrics, stopAt);
        Report(summary, run);
        if (trainer.Step >= trainer.Config.Optim.Steps)
        {
            Export(trainer, export ?? Path.Combine(run, "generator"), name, configPath, summary);
            trainer.ExportVlm(Path.Combine(run, "vlm"));   // logs where it wrote the tuned VLM (init_from's tower + mlp1 + this LLM)
        }
        else Console.WriteLine($"stopped at step {trainer.Step}; continue with --resume");
        return 0;
    }

    static void Report(QueryArTrainSummary s, string run) =>
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "trained steps {0} → {1} in {2:0.0} s (total training time {3:0.0} min), last loss {4:0.0000}{5}; run folder {6}",
            s.StartStep, s.EndStep, s.Elapsed.TotalSeconds, s.TrainSeconds / 60, s.LastLoss,
            s.LastValidation is { } v ? string.Format(CultureInfo.InvariantCulture, ", validation loss {0:0.0000} (random orders) / {1:0.0000} (raster)", v.RandomOrder, v.RasterOrder) : "", Path.GetFullPath(run)));

    static void Export(QueryArTrainer trainer, string dir, string name, string configPath, QueryArTrainSummary s)
    {
        trainer.Export(dir, name, ModelCard(trainer, name, configPath, s), configPath);
        Console.WriteLine($"exported generator → {Path.GetFullPath(dir)} (try: vgt generate \"a photo of a red circle\" --model {dir})");
    }

    /// <summary>README.md of the exported generator: what it is, how it was made; scores are appended after benchmarking.</summary>
    public static string ModelCard(QueryArTrainer t, string name, string configPath, QueryArTrainSummary s)
    {
        var c = t.Config;
        var inv = CultureInfo.InvariantCulture;
        long parameters = t.Model.parameters().Sum(p => p.numel());
        var sb = new StringBuilder();
        sb.AppendLine($"# {name}").AppendLine();
        sb.AppendLine("A VGT-AR (QueryAR) text-to-image generator for Shapes World, made by VGT.NET.").AppendLine();
        sb.AppendLine("| | |").AppendLine("|---|---|");
        sb.AppendLine($"| command | `vgt train vgt --config {configPath.Replace('\\', '/')}` |");
        sb.AppendLine($"| init | {c.InitFrom ?? "random"} (LLM) |");
        sb.AppendLine($"| AE (frozen, copied to ae/) | {c.Ae} (sha256 {t.Autoencoder.WeightsSha256[..12]}…, stride {t.Autoencoder.Stride}, {t.Autoencoder.LatentChannels} channels) |");
        string categories = c.Data.CategoryWeights is { } w ? ", categories weighted " + string.Join(", ", w.Select(kv => string.Format(inv, "{0} {1}", kv.Key, kv.Value))) : ", categories uniform";
        sb.AppendLine(string.Format(inv, "| data | Shapes World train split, {0} scenes from seed {1}, {2} px{3}, caption dropout {4} |",
            c.Data.Scenes, c.Data.FirstSceneSeed, c.Data.ImageSize, categories, c.CaptionDropout));
        string permutation = c.Permutation == PermutationMode.PerBatch ? "one per batch" : "one per sample";
        sb.AppendLine(string.Format(inv, "| order | {0}, raster with probability {1} (`raster_fraction`), otherwise random |", permutation, c.RasterFraction));
        sb.AppendLine(string.Format(inv, "| optimisation | AdamW lr {0} → {1}, warm-up {2}, wd {3}, betas ({4}, {5}), clip {6}, batch {7}, {8} steps |",
            c.Optim.Lr, c.Optim.EndLr, c.Optim.WarmupSteps, c.Optim.WeightDecay, c.Optim.Beta1, c.Optim.Beta2, c.Optim.GradClip, c.Optim.BatchSize, t.Step));
        if (c.Understanding.Every > 0)
            sb.AppendLine(string.Format(inv, "| understanding mix | every {0}th step + {1} × LM loss on {2} Shapes World QA images (frozen vision tower + mlp1 of {3}) |",
                c.Understanding.Every, c.Understanding.LossWeight, c.Understanding.Images, c.InitFrom));
        sb.AppendLine(string.Format(inv, "| EMA | decay {0} from step {1} (weights in model.safetensors are the EMA) |", c.Ema.Decay, c.Ema.StartStep));
        sb.AppendLine(string.Format(inv, "| training time | {0:0.0} min of steps ({1} threads) |", s.TrainSeconds / 60, TorchSharp.torch.get_num_threads()));
        sb.AppendLine(string.Format(inv, "| final loss | {0:0.0000} (train){1} |", s.LastLoss,
            s.LastValidation is { } v ? string.Format(inv, ", {0:0.0000} / {1:0.0000} (validation, random orders / raster)", v.RandomOrder, v.RasterOrder) : ""));
        sb.AppendLine(string.Format(inv, "| parameters | {0:N0} |", parameters));
        sb.AppendLine().AppendLine("## Scores").AppendLine().AppendLine("Not measured yet: `vgt bench geneval --model DIR --metadata benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl --out OUT` then `vgt bench score OUT`.");
        return sb.ToString();
    }
}
