using System.CommandLine;

namespace Vgt.Cli.Commands;

/// <summary>`vgt train …`: training commands, one subcommand per model kind (one file each).</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var cmd = new Command("train", "Train models.");
        cmd.Subcommands.Add(TrainVgtCommand.Build());
        cmd.Subcommands.Add(TrainAeCommand.Build());
        cmd.Subcommands.Add(TrainVlmCommand.Build());
        return cmd;
    }
}
