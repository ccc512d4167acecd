using System.CommandLine;

namespace Vgt.Cli.Commands;

/// <summary>`vgt eval …`: evaluation commands, one subcommand per model kind (vlm so far).</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var cmd = new Command("eval", "Evaluate models: vlm (exact match on held-out Shapes World questions and captions).");
        cmd.Subcommands.Add(EvalVlmCommand.Build());
        return cmd;
    }
}
