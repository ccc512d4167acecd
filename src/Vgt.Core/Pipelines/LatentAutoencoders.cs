namespace Vgt.Pipelines;

/// <summary>
/// Opens an AE model directory as a frozen <see cref="ILatentAutoencoder"/>. Each loader looks at the directory and
/// returns null when it is not its kind; <see cref="PatchLinearAutoencoder"/> (config kind <c>patch_linear</c>) is built
/// in. The VGT-AE family (Vgt.Models.VgtAe) registers itself with <see cref="Register"/>.
/// </summary>
public static class LatentAutoencoders
{
    private static readonly List<(string Kind, Func<string, ILatentAutoencoder?> Open)> loaders =
    [
        (PatchLinearAeConfig.KindName, dir => PatchLinearAutoencoder.IsPatchLinear(dir) ? PatchLinearAutoencoder.Load(dir) : null),
    ];

    /// <summary>Adds a loader (tried after the ones before it).</summary>
    public static void Register(string kind, Func<string, ILatentAutoencoder?> open)
    {
        lock (loaders)
            if (!loaders.Any(l => l.Kind == kind)) loaders.Add((kind, open));
    }

    public static ILatentAutoencoder Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"AE directory '{directory}' does not exist.");
        if (!File.Exists(Path.Combine(directory, "config.json")))
            throw new FileNotFoundException($"AE directory '{directory}' has no config.json", Path.Combine(directory, "config.json"));
        List<(string Kind, Func<string, ILatentAutoencoder?> Open)> list;
        lock (loaders) list = [.. loaders];
        foreach (var (_, open) in list)
            if (open(directory) is { } ae) return ae;
        throw new InvalidDataException($"AE directory '{directory}' is of no known kind (known: {string.Join(", ", list.Select(l => l.Kind))}).");
    }
}
