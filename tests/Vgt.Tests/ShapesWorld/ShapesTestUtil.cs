namespace Vgt.Tests.ShapesWorld;

static class ShapesTestUtil
{
    /// <summary>The repository root (the folder holding VGT.NET.sln), found from the test output folder.</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VGT.NET.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("VGT.NET.sln not found above " + AppContext.BaseDirectory);
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "vgt-shapes-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
