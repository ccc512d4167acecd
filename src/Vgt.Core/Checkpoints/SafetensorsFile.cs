using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>
/// A safetensors file, validated in full when opened: 8-byte little-endian header length, a JSON header
/// (<c>name → {dtype, shape, data_offsets}</c> plus optional <c>__metadata__</c>), then the data section.
/// Every entry must have a known dtype, a shape whose byte count equals its offset span, and offsets inside
/// the data section; the entries must tile the data section without gaps or overlaps. Tensors are read on demand.
/// </summary>
public sealed class SafetensorsFile : ICheckpoint
{
    /// <summary>Headers above this size are refused before anything is allocated for them.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private sealed record Entry(TensorInfo Info, long Begin, long End);

    private readonly FileStream _file;
    private readonly long _dataStart;
    private readonly Dictionary<string, Entry> _entries;
    private readonly Lock _lock = new();

    public string Path { get; }
    public string Format => "safetensors";
    public string StateDictKey => "";
    public IReadOnlyList<string> Names { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, FileStream file, long dataStart, List<Entry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        _file = file;
        _dataStart = dataStart;
        _entries = entries.ToDictionary(e => e.Info.Name, StringComparer.Ordinal);
        Names = entries.Select(e => e.Info.Name).ToArray();
        Metadata = metadata;
    }

    public static SafetensorsFile Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            var (dataStart, entries, metadata) = ReadHeader(file, path);
            return new SafetensorsFile(path, file, dataStart, entries, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public TensorInfo Info(string name) => Find(name).Info;

    public Tensor Load(string name, ScalarType? dtype = ScalarType.Float32)
    {
        var e = Find(name);
        Tensor raw;
        lock (_lock)
        {
            _file.Seek(_dataStart + e.Begin, SeekOrigin.Begin);
            raw = TensorBytes.Read(_file, e.End - e.Begin, e.Info.DType, e.Info.Shape, Path, name);
        }
        return TensorBytes.Convert(raw, dtype);
    }

    public void Dispose() => _file.Dispose();

    private Entry Find(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new KeyNotFoundException($"Checkpoint '{Path}' has no tensor '{name}'");

    private static (long DataStart, List<Entry> Entries, Dictionary<string, string> Metadata) ReadHeader(FileStream file, string path)
    {
        CheckpointFormatException Bad(string problem) => new(path, problem);

        long fileLength = file.Length;
        if (fileLength < 8) throw Bad($"file is {fileLength} bytes, too short for the 8-byte header length (truncated file)");
        Span<byte> prefix = stackalloc byte[8];
        file.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
            throw Bad($"header length {headerLength} is larger than the file ({fileLength} bytes; truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw Bad($"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength < 2) throw Bad($"header length {headerLength} is too small for a JSON object");

        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        if (!System.Text.Unicode.Utf8.IsValid(headerBytes)) throw Bad("header is not valid JSON (invalid UTF-8)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or DecoderFallbackException)
        {
            throw Bad($"header is not valid JSON ({ex.Message})");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad($"header is a JSON {doc.RootElement.ValueKind}, not an object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw Bad($"header names '{prop.Name}' twice");
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ is not a JSON object");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw Bad($"__metadata__ value '{m.Name}' is not a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(prop.Name, prop.Value, dataLength, Bad));
            }
            CheckTiling(entries, dataLength, Bad);
            return (dataStart, entries, metadata);
        }
    }

    private static Entry ParseEntry(string name, JsonElement v, long dataLength, Func<string, CheckpointFormatException> bad)
    {
        if (v.ValueKind != JsonValueKind.Object) throw bad($"entry '{name}' is not a JSON object");
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw bad($"tensor '{name}' has no dtype string");
        var dtypeName = dt.GetString()!;
        if (!CheckpointDTypes.TryFromSafetensors(dtypeName, out var dtype))
            throw bad($"tensor '{name}' has unknown or unsupported dtype '{dtypeName}' (supported: {CheckpointDTypes.SupportedSafetensorsNames})");

        if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw bad($"tensor '{name}' has no shape array");
        if (sh.GetArrayLength() > 64) throw bad($"tensor '{name}' has {sh.GetArrayLength()} dims (more than 64)");
        var shape = new long[sh.GetArrayLength()];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw bad($"tensor '{name}' has an invalid dim {d.GetRawText()} in its shape");
            shape[i++] = dim;
        }

        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw bad($"tensor '{name}' has no data_offsets pair");
        long begin = ReadOffset(off[0]), end = ReadOffset(off[1]);
        if (begin < 0 || end < 0) throw bad($"tensor '{name}' has invalid data_offsets {off.GetRawText()}");
        if (end < begin) throw bad($"tensor '{name}' has data_offsets {off.GetRawText()} that end before they begin");
        if (end > dataLength)
            throw bad($"tensor '{name}' has data_offsets [{begin}, {end}] out of range: the data section holds {dataLength} bytes (truncated file?)");

        var bytes = TensorBytes.ByteCount(shape, CheckpointDTypes.ElementSize(dtype));
        var shapeText = TensorInfo.ShapeText(shape);
        if (bytes is null) throw bad($"tensor '{name}' has absurd shape {shapeText}: its byte count overflows");
        if (bytes != end - begin)
            throw bad($"tensor '{name}' has shape {shapeText} of {dtypeName} needing {bytes} bytes, but its data_offsets span {end - begin} bytes");
        return new Entry(new TensorInfo(name, dtype, shape), begin, end);

        static long ReadOffset(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var x) ? x : -1;
    }

    /// <summary>Entries sorted by offset must start at 0, follow each other without gap or overlap, and end at the file's end.</summary>
    private static void CheckTiling(List<Entry> entries, long dataLength, Func<string, CheckpointFormatException> bad)
    {
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long at = 0;
        Entry? previous = null;
        foreach (var e in sorted)
        {
            if (e.Begin < at)
                throw bad($"tensors '{previous!.Info.Name}' [{previous.Begin}, {previous.End}] and '{e.Info.Name}' [{e.Begin}, {e.End}] have overlapping data_offsets");
            if (e.Begin > at)
                throw bad($"data section has a gap of {e.Begin - at} bytes before tensor '{e.Info.Name}' (offset {at})");
            at = e.End;
            previous = e;
        }
        if (at != dataLength)
            throw bad($"data section holds {dataLength} bytes but the tensors cover {at} (trailing bytes or a wrong header)");
    }
}
