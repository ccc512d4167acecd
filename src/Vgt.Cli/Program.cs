using System.CommandLine;
using Vgt.Cli.Commands;

namespace Vgt.Cli;

public static class Program
{
    /// <summary>The `vgt` command tree. Each command group lives in its own file under Commands/.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("VGT.NET: Visual Generation Tuning in .NET — generate, understand, train and evaluate.");
        root.Subcommands.Add(InfoCommand.Build());
        root.Subcommands.Add(TokenizerCommand.Build());
        root.Subcommands.Add(ShapesCommand.Build());
        root.Subcommands.Add(BenchCommand.Build());
        root.Subcommands.Add(GenerateCommand.Build());
        root.Subcommands.Add(ReconstructCommand.Build());
        root.Subcommands.Add(TrainCommand.Build());
        root.Subcommands.Add(UnderstandCommand.BuildCaption());
        root.Subcommands.Add(UnderstandCommand.BuildAsk());
        root.Subcommands.Add(EvalCommand.Build());
        return root;
    }

    /// <summary>
    /// The process entry point: one thread drives torch here, so training, evaluation and generation steps may hold the garbage
    /// collector off (see <see cref="Vgt.Runtime.GcSafeRegion"/>); then <see cref="Run"/>.
    /// </summary>
    public static int Main(string[] args)
    {
        Vgt.Runtime.GcSafeRegion.Enabled = true;
        return Run(args);
    }

    /// <summary>Parses and runs one command; what in-process callers (the tests) use, leaving process settings alone.</summary>
    public static int Run(string[] args)
    {
        try
        {
            // Our own handler below prints user errors as one line; bugs keep their stack trace.
            return BuildRoot().Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
