using System.CommandLine;
using Vgt.Config;
using Vgt.Runtime;
using Vgt.Training;

namespace Vgt.Cli.Commands;

/// <summary>`vgt train ae --config FILE [--resume]`: one VGT-AE (or conv baseline) training stage.</summary>
public static class TrainAeCommand
{
    public static Command Build()
    {
        var config = new Option<string>("--config") { Description = "Training config (JSON, e.g. configs/shapes-vae.json)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in the config's output_dir" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Override max_steps (e.g. a short smoke run)" };
        var outputDir = new Option<string?>("--output-dir") { Description = "Override output_dir" };
        var cmd = new Command("ae", "Train a VGT-AE stage or the pixel-VAE baseline on Shapes World.") { config, resume, maxSteps, outputDir };
        cmd.SetAction(parse =>
        {
            var c = ConfigJson.Load<AeTrainConfig>(parse.GetValue(config)!);
            if (parse.GetValue(maxSteps) is { } m)   // a shorter run keeps its warm-up below the end
                c = c with { MaxSteps = m, Optimizer = c.Optimizer with { WarmupSteps = Math.Min(c.Optimizer.WarmupSteps, m / 10) } };
            if (parse.GetValue(outputDir) is { } o) c = c with { OutputDir = o, ExportDir = null };   // the export goes to OUTPUT/final
            TorchRuntime.Initialise();
            var result = new AeTrainer(c, Console.Out).Run(parse.GetValue(resume));
            Console.WriteLine($"done: steps {result.StartStep}→{result.Steps} in {result.Seconds / 60:F1} min; " +
                              $"validation PSNR {(result.ValidationPsnr is { } p ? $"{p:F2} dB" : "n/a")}; model {result.ExportDir}");
            return 0;
        });
        return cmd;
    }
}
