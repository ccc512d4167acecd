using Vgt.Runtime;

namespace Vgt.Tests.Cli;

public class InfoCommandTests
{
    [Fact]
    public void InfoReportsVersionsThreadsAndTheTruthAboutTheNativeFix()
    {
        var (code, output, _) = CliRunner.Run("info");
        Assert.Equal(0, code);
        Assert.Contains("libtorch      2.10.0", output);
        Assert.Matches(@"threads\s+\d+", output);
        var state = LibStdCxxCompat.Inspect(TorchRuntime.NativeLibraryPath());
        var expected = state == LibStdCxxPatchState.Patched ? "native fix    applied" : "native fix    not needed";
        Assert.Contains(expected, output);
    }

    [Fact]
    public void HelpListsTheInfoCommand()
    {
        var (code, output, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("info", output);
    }
}

public class CliErrorTests
{
    [Fact]
    public void UserErrorsPrintOneLineWithoutAStackTrace()
    {
        var (code, _, err) = CliRunner.Run("tokenizer", "encode", "--tokenizer", "/nonexistent/dir", "hello");
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err);
        Assert.DoesNotContain("   at ", err);
    }
}
