namespace Vgt.Pipelines;

/// <summary>
/// Opens an AE model directory as a frozen <see cref="ILatentAutoencoder"/>: a <c>patch_linear</c> config (the
/// test stand-in, see <see cref="PatchLinearAutoencoder"/>) or a VGT-AE / conv-baseline directory (Vgt.Models.VgtAe).
/// </summary>
public static class LatentAutoencoders
{
    public static ILatentAutoencoder Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"AE directory '{directory}' does not exist.");
        if (!File.Exists(Path.Combine(directory, "config.json")))
            throw new FileNotFoundException($"AE directory '{directory}' has no config.json", Path.Combine(directory, "config.json"));
        return PatchLinearAutoencoder.IsPatchLinear(directory)
            ? PatchLinearAutoencoder.Load(directory)
            : new VgtAeLatentAutoencoder(directory);
    }
}
