using System.Text.Json;

namespace Vgt.Logging;

/// <summary>
/// Appends structured metrics as JSON lines (one object per line, flushed at once) so a crash loses
/// at most the line being written and a resumed run keeps appending to the same file.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
    readonly StreamWriter writer;

    public string Path { get; }

    public MetricsLog(string path)
    {
        Path = path;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    /// <summary>Writes one record; a UTC timestamp is added as "time".</summary>
    public void Write(IReadOnlyDictionary<string, object?> record)
    {
        var withTime = new Dictionary<string, object?>(record.Count + 1) { ["time"] = DateTime.UtcNow.ToString("O") };
        foreach (var (k, v) in record) withTime[k] = v;
        writer.WriteLine(JsonSerializer.Serialize(withTime, Json));
    }

    /// <summary>Reads every record back (for resume, reports and tests).</summary>
    public static List<Dictionary<string, JsonElement>> ReadAll(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!).ToList();

    public void Dispose() => writer.Dispose();
}
