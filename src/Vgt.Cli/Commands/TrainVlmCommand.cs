using System.CommandLine;
using Vgt.Config;
using Vgt.Runtime;
using Vgt.Training;

namespace Vgt.Cli.Commands;

/// <summary>`vgt train vlm --config configs/shapes-vlm.json --out DIR [--resume]`.</summary>
public static class TrainVlmCommand
{
    public static Command Build()
    {
        var config = new Option<string>("--config") { Description = "Training config (JSON), e.g. configs/shapes-vlm.json.", DefaultValueFactory = _ => "configs/shapes-vlm.json" };
        var output = new Option<string>("--out") { Description = "Run folder: tokenizer/, checkpoints/, metrics.jsonl, and model/ at the end.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in --out." };
        var stopAfter = new Option<long?>("--stop-after") { Description = "End this invocation after this many chat steps in total (resume later); the schedule still spans optim.steps. The vision warm-up belongs to step 0: the first invocation runs it (even with 0) and saves it in the step-0 checkpoint, so a resumed run skips it." };
        var threads = new Option<int>("--threads") { Description = "Torch threads.", DefaultValueFactory = _ => 2 };
        var cmd = new Command("vlm", "Train an InternVL-family chat model on Shapes World captions and questions (resumable).")
            { config, output, resume, stopAfter, threads };
        cmd.SetAction(parse =>
        {
            TorchRuntime.Initialise(parse.GetValue(threads));
            var cfg = ConfigJson.Load<VlmTrainConfig>(parse.GetValue(config)!);
            var result = VlmTrainer.Run(cfg, parse.GetValue(output)!, parse.GetValue(resume), ConsoleProgress.Create(), Console.Out, parse.GetValue(stopAfter));
            Console.WriteLine(FormattableString.Invariant($"steps {result.Steps}, last loss {result.LastLoss:F4}, {result.TrainSeconds:F0} s, {result.Parameters:N0} parameters"));
            return 0;
        });
        return cmd;
    }
}
