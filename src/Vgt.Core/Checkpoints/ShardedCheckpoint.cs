using System.Text.Json;
using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>
/// A Hugging Face sharded checkpoint: <c>model.safetensors.index.json</c> or <c>pytorch_model.bin.index.json</c>
/// (<c>{"metadata": {...}, "weight_map": {name: shard file}}</c>) beside its shard files. Every shard is opened
/// (headers only) and every name in the weight map must exist in the shard it is mapped to.
/// </summary>
public sealed class ShardedCheckpoint : ICheckpoint
{
    private const long MaxIndexBytes = 64L * 1024 * 1024;

    private readonly Dictionary<string, ICheckpoint> _shardOf;
    private readonly List<ICheckpoint> _shards;

    public string Path { get; }
    public string Format { get; }
    public string StateDictKey => "";
    public IReadOnlyList<string> Names { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private ShardedCheckpoint(string path, string format, List<ICheckpoint> shards, Dictionary<string, ICheckpoint> shardOf,
        List<string> names, Dictionary<string, string> metadata)
    {
        Path = path;
        Format = format;
        _shards = shards;
        _shardOf = shardOf;
        Names = names;
        Metadata = metadata;
    }

    public static ShardedCheckpoint Open(string indexPath)
    {
        CheckpointFormatException Bad(string problem) => new(indexPath, problem);
        var length = new FileInfo(indexPath).Length;
        if (length > MaxIndexBytes) throw Bad($"index is {length} bytes, above the {MaxIndexBytes}-byte limit");

        var (weightMap, metadata) = ParseIndex(File.ReadAllBytes(indexPath), Bad);
        var dir = System.IO.Path.GetFullPath(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!);
        var opened = new Dictionary<string, ICheckpoint>(StringComparer.Ordinal);
        var shardOf = new Dictionary<string, ICheckpoint>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, file) in weightMap)
            {
                if (!opened.TryGetValue(file, out var shard))
                {
                    var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, file));
                    if (!full.StartsWith(dir + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw Bad($"shard '{file}' lies outside the checkpoint directory");
                    if (!File.Exists(full)) throw Bad($"shard '{file}' named by the index is missing");
                    opened[file] = shard = CheckpointReader.OpenFile(full, null);
                }
                if (!shard.Contains(name)) throw Bad($"index maps '{name}' to shard '{file}', which has no such tensor");
                shardOf[name] = shard;
            }
        }
        catch
        {
            foreach (var s in opened.Values) s.Dispose();
            throw;
        }
        var format = "sharded-" + (opened.Values.FirstOrDefault()?.Format ?? "safetensors");
        return new ShardedCheckpoint(indexPath, format, opened.Values.ToList(), shardOf, weightMap.Select(p => p.Name).ToList(), metadata);
    }

    private static (List<(string Name, string File)> WeightMap, Dictionary<string, string> Metadata) ParseIndex(
        byte[] json, Func<string, CheckpointFormatException> bad)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw bad("index is not valid JSON (invalid UTF-8)");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw bad($"index is not valid JSON ({e.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw bad("index has no \"weight_map\" object");
            var weightMap = new List<(string, string)>();
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(p.Value.GetString()))
                    throw bad($"weight_map entry '{p.Name}' is not a file name");
                weightMap.Add((p.Name, p.Value.GetString()!));
            }
            if (weightMap.Select(w => w.Item1).Distinct(StringComparer.Ordinal).Count() != weightMap.Count) throw bad("weight_map names a tensor twice");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
                foreach (var m in meta.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
            return (weightMap, metadata);
        }
    }

    public bool Contains(string name) => _shardOf.ContainsKey(name);

    public TensorInfo Info(string name) => Shard(name).Info(name);

    public Tensor Load(string name, ScalarType? dtype = ScalarType.Float32) => Shard(name).Load(name, dtype);

    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }

    private ICheckpoint Shard(string name) =>
        _shardOf.TryGetValue(name, out var s) ? s : throw new KeyNotFoundException($"Checkpoint '{Path}' has no tensor '{name}'");
}
