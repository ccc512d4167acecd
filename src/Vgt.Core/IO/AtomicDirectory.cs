namespace Vgt.IO;

/// <summary>
/// Writes a whole directory so that a reader never sees it half-written: the content is written into a hidden staging
/// folder next to the target, which then replaces the target by renames. If writing fails, the previous target (if
/// any) is left as it was and the staging folder is removed.
/// </summary>
public static class AtomicDirectory
{
    /// <summary>Calls <paramref name="fill"/> with an empty staging folder, then puts that folder at <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> fill)
    {
        var full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no parent folder", nameof(path));
        Directory.CreateDirectory(parent);
        string tag = $"{Environment.ProcessId}.{Guid.NewGuid():N}";
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.{tag}.partial");
        var retired = Path.Combine(parent, $".{Path.GetFileName(full)}.{tag}.old");
        try
        {
            Directory.CreateDirectory(staging);
            fill(staging);
            if (Directory.Exists(full)) Directory.Move(full, retired);
            try
            {
                Directory.Move(staging, full);
            }
            catch
            {
                if (Directory.Exists(retired) && !Directory.Exists(full)) Directory.Move(retired, full);   // put the old one back
                throw;
            }
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            if (Directory.Exists(retired)) Directory.Delete(retired, recursive: true);
        }
    }
}
