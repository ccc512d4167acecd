using Vgt.IO;

namespace Vgt.Tests.IO;

public sealed class AtomicDirectoryTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), $"vgt-atomic-dir-{Guid.NewGuid():N}");

    public AtomicDirectoryTests() => Directory.CreateDirectory(root);

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void WritesANewFolderAndReplacesAnOldOneWholeWithoutLeftovers()
    {
        var target = Path.Combine(root, "out");
        AtomicDirectory.Write(target, d => File.WriteAllText(Path.Combine(d, "a.txt"), "one"));
        Assert.Equal("one", File.ReadAllText(Path.Combine(target, "a.txt")));

        AtomicDirectory.Write(target + Path.DirectorySeparatorChar, d => File.WriteAllText(Path.Combine(d, "b.txt"), "two"));
        Assert.Equal(["b.txt"], Directory.GetFiles(target).Select(Path.GetFileName));   // a.txt went with the old folder
        Assert.Equal([target], Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public void AFailedWriteKeepsThePreviousFolderAndRemovesTheStaging()
    {
        var target = Path.Combine(root, "model");
        AtomicDirectory.Write(target, d => File.WriteAllText(Path.Combine(d, "weights"), "good"));
        string? seen = null;
        var e = Assert.Throws<IOException>(() => AtomicDirectory.Write(target, d =>
        {
            seen = d;
            File.WriteAllText(Path.Combine(d, "weights"), "half");
            throw new IOException("disk full");
        }));
        Assert.Equal("disk full", e.Message);
        Assert.Equal("good", File.ReadAllText(Path.Combine(target, "weights")));
        Assert.NotNull(seen);
        Assert.StartsWith(".", Path.GetFileName(seen));                                    // hidden next to the target
        Assert.Equal(root, Path.GetDirectoryName(seen));
        Assert.False(Directory.Exists(seen));
        Assert.Equal([target], Directory.GetFileSystemEntries(root));
    }
}
