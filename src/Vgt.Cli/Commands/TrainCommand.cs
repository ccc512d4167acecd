using System.CommandLine;

namespace Vgt.Cli.Commands;

/// <summary>`vgt train …`: the training commands (vlm; later ae and vgt), one subcommand per model kind.</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var cmd = new Command("train", "Train models: vlm (the Shapes World vision-language model).");
        cmd.Subcommands.Add(TrainVlmCommand.Build());
        return cmd;
    }
}
