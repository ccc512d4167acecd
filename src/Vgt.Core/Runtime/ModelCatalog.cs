namespace Vgt.Runtime;

/// <summary>A model directory found on disk (it holds a config.json).</summary>
public sealed record ModelEntry(string Name, string Directory);

/// <summary>
/// Finds model directories: `models/` next to the application, in the repository that contains it,
/// and under $VGT_MODELS. The embedded default models ship in the repository's `models/` folder.
/// </summary>
public static class ModelCatalog
{
    public static IEnumerable<string> SearchRoots()
    {
        var env = Environment.GetEnvironmentVariable("VGT_MODELS");
        if (!string.IsNullOrEmpty(env)) yield return env;
        yield return Path.Combine(AppContext.BaseDirectory, "models");
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VGT.NET.sln")))
            {
                yield return Path.Combine(d.FullName, "models");
                yield break;
            }
    }

    public static IReadOnlyList<ModelEntry> Discover()
    {
        var seen = new HashSet<string>();
        var list = new List<ModelEntry>();
        foreach (var root in SearchRoots())
        {
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
                if (File.Exists(Path.Combine(dir, "config.json")) && seen.Add(Path.GetFileName(dir)))
                    list.Add(new ModelEntry(Path.GetFileName(dir), dir));
        }
        return list;
    }

    /// <summary>Resolves a model name or directory; errors list what is available.</summary>
    public static string Resolve(string nameOrDir)
    {
        if (Directory.Exists(nameOrDir)) return Path.GetFullPath(nameOrDir);
        var hit = Discover().FirstOrDefault(m => m.Name == nameOrDir);
        if (hit != null) return hit.Directory;
        var names = string.Join(", ", Discover().Select(m => m.Name));
        throw new DirectoryNotFoundException($"Model '{nameOrDir}' not found (available: {(names.Length > 0 ? names : "none")}; " +
            $"or pass a directory: relative paths are read from the working directory, {Directory.GetCurrentDirectory()}).");
    }
}
