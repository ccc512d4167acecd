using System.CommandLine;

namespace Vgt.Cli.Commands;

/// <summary>`vgt eval …`: evaluation commands, one subcommand per file (recon, vlm).</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var cmd = new Command("eval", "Evaluate models: recon (autoencoder reconstruction metrics), vlm (held-out Shapes World questions and captions).");
        cmd.Subcommands.Add(EvalReconCommand.Build());
        cmd.Subcommands.Add(EvalVlmCommand.Build());
        return cmd;
    }
}
