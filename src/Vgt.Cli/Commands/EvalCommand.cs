using System.CommandLine;

namespace Vgt.Cli.Commands;

/// <summary>`vgt eval …`: evaluation commands (one subcommand per file).</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var cmd = new Command("eval", "Evaluate models.");
        cmd.Subcommands.Add(EvalReconCommand.Build());
        return cmd;
    }
}
