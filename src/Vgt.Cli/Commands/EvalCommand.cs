using System.CommandLine;

namespace Vgt.Cli.Commands;

/// <summary>`vgt eval …`: evaluation commands, one subcommand per file (recon, vlm).</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var cmd = new Command("eval", "Evaluate models: recon (autoencoder reconstruction metrics), vlm (held-out Shapes World questions and captions), completion (a generator filling in partly given scenes).");
        cmd.Subcommands.Add(EvalReconCommand.Build());
        cmd.Subcommands.Add(EvalVlmCommand.Build());
        cmd.Subcommands.Add(EvalCompletionCommand.Build());
        return cmd;
    }
}
