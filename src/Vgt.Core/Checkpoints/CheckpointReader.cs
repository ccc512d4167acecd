namespace Vgt.Checkpoints;

/// <summary>Opens any supported checkpoint by looking at what is there (directory, index file, zip or safetensors bytes).</summary>
public static class CheckpointReader
{
    /// <summary>Files looked for, in this order, when a directory is given.</summary>
    public static readonly string[] DirectoryCandidates =
        ["model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin"];

    /// <summary>
    /// Opens <paramref name="path"/>: a <c>.safetensors</c> file, a zip-format <c>.pth</c>/<c>.pt</c>/<c>.bin</c>
    /// file, an <c>*.index.json</c> of a sharded checkpoint, or a Hugging Face directory holding one of
    /// <see cref="DirectoryCandidates"/>. Malformed input raises <see cref="CheckpointFormatException"/>.
    /// </summary>
    public static ICheckpoint Open(string path, CheckpointOpenOptions? options = null)
    {
        if (Directory.Exists(path))
        {
            foreach (var candidate in DirectoryCandidates)
            {
                var file = Path.Combine(path, candidate);
                if (File.Exists(file)) return OpenFile(file, options);
            }
            throw new CheckpointFormatException(path, $"directory has none of {string.Join(", ", DirectoryCandidates)}");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint not found: {path}", path);
        return OpenFile(path, options);
    }

    internal static ICheckpoint OpenFile(string path, CheckpointOpenOptions? options)
    {
        if (path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) return ShardedCheckpoint.Open(path);

        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".safetensors") return SafetensorsFile.Open(path);
        if (ext is ".pth" or ".pt" or ".bin" or ".ckpt" or ".tar") return TorchZipCheckpoint.Open(path, options);

        // Unknown extension: a zip is a torch.save file; anything else is tried as safetensors.
        Span<byte> head = stackalloc byte[4];
        int got;
        using (var f = File.OpenRead(path)) got = f.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        bool zip = got == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        return zip ? TorchZipCheckpoint.Open(path, options) : SafetensorsFile.Open(path);
    }
}
