using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Text;
using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>
/// A zip-format PyTorch file (<c>torch.save</c> since PyTorch 1.6: <c>.pth</c>, <c>.pt</c>, <c>.bin</c>):
/// <c>&lt;name&gt;/data.pkl</c> holds the pickled object, <c>&lt;name&gt;/data/&lt;key&gt;</c> the raw storages.
/// The pickle is interpreted by <see cref="PickleMachine"/> (nothing is imported or executed); one nested
/// state dict is chosen (see <see cref="CheckpointOpenOptions"/>) and each of its tensors is checked against
/// its storage before anything is allocated. Tensors are read from their storage entries on demand, so
/// optimizer state and other parts of a training checkpoint are never loaded.
/// </summary>
public sealed class TorchZipCheckpoint : ICheckpoint
{
    /// <summary>data.pkl files above this size are refused.</summary>
    public const long MaxPickleBytes = 512L * 1024 * 1024;

    /// <summary>A deflated entry may not claim to expand more than this (zlib's own limit is about 1032×).</summary>
    private const long MaxDeflateRatio = 1100;

    private sealed record Entry(TensorInfo Info, long[] Stride, ZipArchiveEntry Storage, long FirstElement, long SpanElements);

    private readonly ZipArchive _zip;
    private readonly Dictionary<string, Entry> _entries;
    private readonly Lock _lock = new();

    public string Path { get; }
    public string Format => "torch-zip";
    public string StateDictKey { get; }
    public IReadOnlyList<string> Names { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private TorchZipCheckpoint(string path, ZipArchive zip, string key, List<Entry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        _zip = zip;
        StateDictKey = key;
        _entries = entries.ToDictionary(e => e.Info.Name, StringComparer.Ordinal);
        Names = entries.Select(e => e.Info.Name).ToArray();
        Metadata = metadata;
    }

    public static TorchZipCheckpoint Open(string path, CheckpointOpenOptions? options = null)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        ZipArchive? zip = null;
        bool ok = false;
        try
        {
            Span<byte> magic = stackalloc byte[4];
            int got = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            if (got < 4 || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4)
                throw new CheckpointFormatException(path, got >= 1 && magic[0] == 0x80
                    ? "legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a current PyTorch (torch.save(torch.load(path), path))"
                    : "not a zip archive, so not a torch.save file");
            file.Position = 0;
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: false);
            var result = Build(path, zip, file.Length, options ?? new CheckpointOpenOptions());
            ok = true;
            return result;
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(path, $"corrupt zip archive ({e.Message})");
        }
        finally
        {
            if (!ok)
            {
                zip?.Dispose();
                file.Dispose();
            }
        }
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public TensorInfo Info(string name) => Find(name).Info;

    public Tensor Load(string name, ScalarType? dtype = ScalarType.Float32)
    {
        var e = Find(name);
        var (type, shape) = (e.Info.DType, e.Info.Shape);
        if (e.SpanElements == 0) return TensorBytes.Convert(zeros(shape, type), dtype);

        int size = CheckpointDTypes.ElementSize(type);
        Tensor flat;
        lock (_lock)
        {
            using var s = e.Storage.Open();
            TensorBytes.Skip(s, e.FirstElement * size, Path, name);
            flat = TensorBytes.Read(s, e.SpanElements * size, type, [e.SpanElements], Path, name);
        }
        Tensor raw;
        using (flat)
            raw = IsRowMajor(shape, e.Stride) ? flat.reshape(shape) : flat.as_strided(shape, e.Stride, 0).contiguous();
        return TensorBytes.Convert(raw, dtype);
    }

    public void Dispose() => _zip.Dispose();

    private Entry Find(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"Checkpoint '{Path}' has no tensor '{name}'");

    private static bool IsRowMajor(long[] shape, long[] stride)
    {
        var expected = TensorBytes.ContiguousStrides(shape);
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] > 1 && stride[i] != expected[i]) return false;
        return true;
    }

    private static TorchZipCheckpoint Build(string path, ZipArchive zip, long fileLength, CheckpointOpenOptions options)
    {
        CheckpointFormatException Bad(string problem) => new(path, problem);

        var byName = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var z in zip.Entries) byName.TryAdd(z.FullName, z);
        var pickles = byName.Keys.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - 9).ToList();
        if (pickles.Count == 0) throw Bad("zip archive has no <name>/data.pkl entry, so it is not a torch.save file");
        if (pickles.Count > 1) throw Bad($"zip archive has {pickles.Count} data.pkl entries ({string.Join(", ", pickles)})");
        var prefix = pickles[0][..^"data.pkl".Length];

        if (byName.TryGetValue(prefix + "byteorder", out var order))
        {
            var text = Encoding.ASCII.GetString(ReadSmallEntry(order, 64, fileLength, Bad)).Trim();
            if (text != "little") throw Bad($"tensors are stored with byte order '{text}'; only little-endian files are supported");
        }

        var storages = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
        var pickle = ReadSmallEntry(byName[pickles[0]], MaxPickleBytes, fileLength, Bad);
        var root = PickleMachine.Run(pickle, path, pid => StorageRecord(pid, storages, Bad));
        var (key, dict) = Select(root, options, Bad);

        var entries = new List<Entry>();
        foreach (var (k, v) in dict.Items)
            if (k is string name && v is TorchTensorRef t)
                entries.Add(Check(name, t, prefix, byName, fileLength, Bad));
        if (entries.Count == 0) throw Bad(key == "" ? "the pickled dict holds no tensors" : $"state dict '{key}' holds no tensors");
        return new TorchZipCheckpoint(path, zip, key, entries, ReadMeta(root));
    }

    /// <summary><c>('storage', torch.FloatStorage, key, location, numel)</c> → one record per key (shared storages stay shared).</summary>
    private static TorchStorageRef StorageRecord(object? pid, Dictionary<string, TorchStorageRef> seen, Func<string, CheckpointFormatException> bad)
    {
        if (pid is not object?[] { Length: >= 5 } t || t[0] is not "storage" || t[1] is not PyGlobal type || t[2] is not string key || t[4] is not long count)
            throw bad("unsupported persistent id in data.pkl (expected ('storage', type, key, location, numel))");
        if (count < 0) throw bad($"storage '{key}' declares {count} elements");
        if (seen.TryGetValue(key, out var known)) return known;
        return seen[key] = new TorchStorageRef(key, type.Name, count);
    }

    private static (string Key, PyDict Dict) Select(object? root, CheckpointOpenOptions options, Func<string, CheckpointFormatException> bad)
    {
        if (root is not PyDict top)
        {
            var what = root is PyObject o ? $"a pickled {o.Type} object (a whole model? save model.state_dict() instead)" : $"a {root?.GetType().Name ?? "None"}";
            throw bad($"data.pkl holds {what}, not a dict of tensors");
        }
        if (options.StateDictKey is { } wanted)
        {
            if (top.TryGet(wanted, out var v) && v is PyDict d) return (wanted, d);
            var keys = string.Join(", ", top.Items.Where(i => i.Value is PyDict).Select(i => $"'{i.Key}'"));
            throw bad($"has no nested dict '{wanted}' (nested dicts: {(keys.Length > 0 ? keys : "none")})");
        }
        string[] order = options.PreferEma ? ["ema_state_dict", "state_dict", "model", "module"] : ["state_dict", "model", "module"];
        foreach (var k in order)
            if (top.TryGet(k, out var v) && v is PyDict d && d.Items.Any(i => i.Value is TorchTensorRef))
                return (k, d);
        return ("", top);
    }

    /// <summary>Checks one tensor against its storage entry; nothing is allocated for a tensor that fails.</summary>
    private static Entry Check(string name, TorchTensorRef t, string prefix, Dictionary<string, ZipArchiveEntry> byName,
        long fileLength, Func<string, CheckpointFormatException> bad)
    {
        var s = t.Storage;
        if (!CheckpointDTypes.TryFromStorage(s.StorageClass, out var dtype))
            throw bad($"tensor '{name}' has unknown or unsupported storage type '{s.StorageClass}'");
        if (!byName.TryGetValue($"{prefix}data/{s.Key}", out var entry))
            throw bad($"tensor '{name}' refers to storage '{s.Key}', which is missing from the archive");
        var shapeText = TensorInfo.ShapeText(t.Shape);
        if (t.Shape.Length != t.Stride.Length || t.Shape.Length > 64)
            throw bad($"tensor '{name}' has shape {shapeText} but {t.Stride.Length} strides");
        if (t.Shape.Any(d => d < 0) || t.Stride.Any(d => d < 0) || t.StorageOffset < 0)
            throw bad($"tensor '{name}' has a negative size, stride or offset (shape {shapeText}, offset {t.StorageOffset})");

        int size = CheckpointDTypes.ElementSize(dtype);
        if (TensorBytes.ByteCount(t.Shape, size) is not { } bytes) throw bad($"tensor '{name}' has absurd shape {shapeText}: its byte count overflows");
        long first = t.StorageOffset, span = 0;
        if (bytes > 0)
        {
            try
            {
                long last = first;
                for (int i = 0; i < t.Shape.Length; i++) last = checked(last + (t.Shape[i] - 1) * t.Stride[i]);
                span = checked(last - first + 1);
                _ = checked(last * size);
            }
            catch (OverflowException)
            {
                throw bad($"tensor '{name}' has absurd strides {TensorInfo.ShapeText(t.Stride)} for shape {shapeText}");
            }
        }

        long storageBytes;
        try { storageBytes = checked(s.ElementCount * size); }
        catch (OverflowException) { throw bad($"storage '{s.Key}' declares an absurd {s.ElementCount} elements"); }
        if (entry.Length != storageBytes)
            throw bad($"storage '{s.Key}' of tensor '{name}' declares {s.ElementCount} {dtype} elements ({storageBytes} bytes) but its archive entry holds {entry.Length} bytes");
        if (bytes > 0 && first + span > s.ElementCount)
            throw bad($"tensor '{name}' (shape {shapeText}, offset {first}) reaches element {first + span - 1} of storage '{s.Key}', which holds {s.ElementCount} elements");
        CheckExpansion(entry, fileLength, bad);
        return new Entry(new TensorInfo(name, dtype, t.Shape), t.Stride, entry, first, span);
    }

    /// <summary>An entry's sizes must be backed by the file: stored data within it, deflated data within zlib's ratio.</summary>
    private static void CheckExpansion(ZipArchiveEntry entry, long fileLength, Func<string, CheckpointFormatException> bad)
    {
        if (entry.CompressedLength > fileLength || entry.Length > Math.Max(entry.CompressedLength, 1) * MaxDeflateRatio
            || (entry.CompressedLength == entry.Length && entry.Length > fileLength))
            throw bad($"archive entry '{entry.FullName}' claims {entry.Length} bytes, more than the {fileLength}-byte file can hold");
    }

    private static byte[] ReadSmallEntry(ZipArchiveEntry entry, long limit, long fileLength, Func<string, CheckpointFormatException> bad)
    {
        if (entry.Length > limit) throw bad($"archive entry '{entry.FullName}' is {entry.Length} bytes, above the {limit}-byte limit");
        CheckExpansion(entry, fileLength, bad);
        var buffer = new byte[entry.Length];
        using var s = entry.Open();
        int got = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length) throw bad($"archive entry '{entry.FullName}' ends after {got} of {buffer.Length} bytes (truncated file)");
        return buffer;
    }

    /// <summary>Scalar entries (strings, numbers, booleans) of a top-level <c>meta</c> dict, as invariant strings.</summary>
    private static Dictionary<string, string> ReadMeta(object? root)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root is PyDict top && top.TryGet("meta", out var m) && m is PyDict d)
            foreach (var (k, v) in d.Items)
                if (k is string key && v is string or long or double or bool or BigInteger)
                    meta[key] = Convert.ToString(v, CultureInfo.InvariantCulture)!;
        return meta;
    }
}
