using Vgt.Runtime;

namespace Vgt.Tests.Runtime;

/// <summary>The libstdc++ compatibility patch, exercised on copies of the pristine library from the NuGet cache.</summary>
public sealed class LibStdCxxCompatTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("vgt-patch-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>The unpatched libLibTorchSharp.so as shipped in the TorchSharp package.</summary>
    static string PristineLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp package not found in the NuGet cache at {path}");
        return path;
    }

    string CopyOfPristine()
    {
        var copy = Path.Combine(dir, "libLibTorchSharp.so");
        File.Copy(PristineLibrary(), copy, overwrite: true);
        return copy;
    }

    [Fact]
    public void PristineLibraryNeedsThePatch()
    {
        Assert.Equal(LibStdCxxPatchState.NeedsPatch, LibStdCxxCompat.Inspect(PristineLibrary()));
    }

    [Fact]
    public void PatchChangesOnlyTheExpectedBytesAndIsIdempotent()
    {
        var copy = CopyOfPristine();
        var before = File.ReadAllBytes(copy);
        var mtime = File.GetLastWriteTimeUtc(copy);

        Assert.Equal(LibStdCxxPatchOutcome.PatchedNow, LibStdCxxCompat.PatchIfNeeded(copy, systemHasRequiredVersion: false));
        var after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(copy));
        Assert.Equal(LibStdCxxPatchState.Patched, LibStdCxxCompat.Inspect(copy));

        // Old name gone, new name present, and only a handful of bytes differ (name, versym entry, vna_flags).
        Assert.Equal(-1, IndexOf(after, LibStdCxxCompat.OldSymbol + "\0"));
        Assert.True(IndexOf(after, LibStdCxxCompat.NewSymbol + "\0") >= 0);
        int changed = before.Zip(after).Count(p => p.First != p.Second);
        Assert.InRange(changed, 3, LibStdCxxCompat.OldSymbol.Length + 4);

        // Second run: nothing changes.
        Assert.Equal(LibStdCxxPatchOutcome.AlreadyPatched, LibStdCxxCompat.PatchIfNeeded(copy, systemHasRequiredVersion: false));
        Assert.Equal(after, File.ReadAllBytes(copy));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void NoOpWhenTheSystemHasTheVersion()
    {
        var copy = CopyOfPristine();
        var before = File.ReadAllBytes(copy);
        Assert.Equal(LibStdCxxPatchOutcome.NotNeededOnThisSystem, LibStdCxxCompat.PatchIfNeeded(copy, systemHasRequiredVersion: true));
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [Fact]
    public void PatchBreaksHardLinksInsteadOfWritingThrough()
    {
        // The SDK may hard-link output files to the NuGet cache; the patch must never write through such a link.
        var original = CopyOfPristine();
        var linked = Path.Combine(dir, "hardlinked.so");
        using (var ln = System.Diagnostics.Process.Start("ln", [original, linked])) ln.WaitForExit();
        var pristine = File.ReadAllBytes(original);
        Assert.Equal(LibStdCxxPatchOutcome.PatchedNow, LibStdCxxCompat.PatchIfNeeded(linked, false));
        Assert.Equal(pristine, File.ReadAllBytes(original));
        Assert.Equal(LibStdCxxPatchState.Patched, LibStdCxxCompat.Inspect(linked));
    }

    [Theory]
    [InlineData("not an ELF file")]
    [InlineData("truncated")]
    [InlineData("32-bit")]
    public void RefusesFilesItDoesNotUnderstand(string kind)
    {
        var path = Path.Combine(dir, "bad.so");
        byte[] bytes = kind switch
        {
            "not an ELF file" => "#!/bin/sh\necho not a library\n"u8.ToArray().Concat(new byte[64]).ToArray(),
            "truncated" => File.ReadAllBytes(PristineLibrary())[..4096],
            _ => Set(File.ReadAllBytes(PristineLibrary())[..4096], 4, 1),
        };
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<LibStdCxxPatchException>(() => LibStdCxxCompat.PatchIfNeeded(path, false));
        Assert.Contains(path, e.Message);
        Assert.Contains(kind == "32-bit" ? "not a 64-bit" : kind == "truncated" ? "truncated" : "not an ELF", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void RefusesWhenAnotherSymbolUsesTheVersion()
    {
        // Point a second dynsym entry's version at GLIBCXX_3.4.32 by copying the target symbol's versym value.
        var copy = CopyOfPristine();
        var bytes = File.ReadAllBytes(copy);
        var elf = ElfProbe.Read(bytes);
        int target = elf.SymbolIndex(LibStdCxxCompat.OldSymbol);
        int other = target == 1 ? 2 : 1;
        bytes[elf.VersymOffset + other * 2] = bytes[elf.VersymOffset + target * 2];
        bytes[elf.VersymOffset + other * 2 + 1] = bytes[elf.VersymOffset + target * 2 + 1];
        File.WriteAllBytes(copy, bytes);
        var e = Assert.Throws<LibStdCxxPatchException>(() => LibStdCxxCompat.PatchIfNeeded(copy, false));
        Assert.Contains("another symbol", e.Message);
    }

    [Fact]
    public void BuildOutputCopyIsPatchedAndNoCpuFolderExists()
    {
        var native = TorchRuntime.NativeLibraryPath();
        Assert.True(File.Exists(native), native);
        var expected = LibStdCxxCompat.SystemHasRequiredVersion() ? LibStdCxxPatchState.NeedsPatch : LibStdCxxPatchState.Patched;
        Assert.Equal(expected, LibStdCxxCompat.Inspect(native));
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "cpu")), "TorchSharp's cpu/ consolidation folder exists: the native load failed once");
    }

    static byte[] Set(byte[] b, int i, byte v) { b[i] = v; return b; }

    static int IndexOf(byte[] hay, string needle)
    {
        var n = System.Text.Encoding.ASCII.GetBytes(needle);
        return hay.AsSpan().IndexOf(n);
    }

    /// <summary>Just enough ELF reading for the test to locate .dynsym/.gnu.version entries.</summary>
    sealed class ElfProbe
    {
        public int VersymOffset;
        int dynsymOffset, dynsymCount, dynstrOffset;
        byte[] bytes = [];

        public static ElfProbe Read(byte[] b)
        {
            var p = new ElfProbe { bytes = b };
            long shoff = BitConverter.ToInt64(b, 0x28);
            int shnum = BitConverter.ToUInt16(b, 0x3C);
            var offsets = new long[shnum];
            for (int i = 0; i < shnum; i++)
            {
                long h = shoff + i * 64L;
                uint type = BitConverter.ToUInt32(b, (int)h + 4);
                long off = BitConverter.ToInt64(b, (int)h + 24), size = BitConverter.ToInt64(b, (int)h + 32);
                int link = (int)BitConverter.ToUInt32(b, (int)h + 40);
                offsets[i] = off;
                if (type == 11) { p.dynsymOffset = (int)off; p.dynsymCount = (int)(size / 24); p.dynstrOffset = link; }
                if (type == 0x6fffffff) p.VersymOffset = (int)off;
            }
            p.dynstrOffset = (int)offsets[p.dynstrOffset];
            return p;
        }

        public int SymbolIndex(string name)
        {
            for (int i = 1; i < dynsymCount; i++)
            {
                int s = dynstrOffset + (int)BitConverter.ToUInt32(bytes, dynsymOffset + i * 24);
                int e = Array.IndexOf(bytes, (byte)0, s);
                if (System.Text.Encoding.ASCII.GetString(bytes, s, e - s) == name) return i;
            }
            throw new InvalidOperationException(name + " not found");
        }
    }
}
