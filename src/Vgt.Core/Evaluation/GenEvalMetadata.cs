using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vgt.Evaluation;

/// <summary>A GenEval position requirement: every candidate stands in <see cref="Relation"/> to every object of include clause <see cref="Group"/>.</summary>
public sealed record GenEvalPosition(string Relation, int Group);

/// <summary>One include or exclude clause of a GenEval metadata line.</summary>
public sealed record GenEvalClause(string Class, int Count, string? Color = null, GenEvalPosition? Position = null);

/// <summary>
/// One GenEval metadata line: <c>{"tag": ..., "include": [...], "exclude": [...]?, "prompt": ...}</c>.
/// <see cref="ToJsonLine"/> writes GenEval's exact formatting (Python <c>json.dumps</c> defaults: ", " and ": "
/// separators, ASCII escapes; clause keys class, count, color?, position?). <see cref="ParseLine"/> reads a line and
/// refuses anything outside the schema with an error naming the source and line.
/// </summary>
public sealed record GenEvalMetadata(string Tag, IReadOnlyList<GenEvalClause> Include, IReadOnlyList<GenEvalClause>? Exclude, string Prompt)
{
    /// <summary>The six GenEval task categories (tags), in GenEval's order.</summary>
    public static readonly IReadOnlyList<string> Tags = ["single_object", "two_object", "counting", "colors", "position", "color_attr"];

    /// <summary>GenEval's relations.</summary>
    public static readonly IReadOnlyList<string> Relations = ["left of", "right of", "above", "below"];

    public string ToJsonLine()
    {
        var sb = new StringBuilder();
        sb.Append("{\"tag\": ").Append(Quote(Tag)).Append(", \"include\": ");
        AppendClauses(sb, Include);
        if (Exclude is not null)
        {
            sb.Append(", \"exclude\": ");
            AppendClauses(sb, Exclude);
        }
        sb.Append(", \"prompt\": ").Append(Quote(Prompt)).Append('}');
        return sb.ToString();
    }

    static void AppendClauses(StringBuilder sb, IReadOnlyList<GenEvalClause> clauses)
    {
        sb.Append('[');
        for (int i = 0; i < clauses.Count; i++)
        {
            var c = clauses[i];
            if (i > 0) sb.Append(", ");
            sb.Append("{\"class\": ").Append(Quote(c.Class)).Append(", \"count\": ").Append(c.Count.ToString(CultureInfo.InvariantCulture));
            if (c.Color is not null) sb.Append(", \"color\": ").Append(Quote(c.Color));
            if (c.Position is not null)
                sb.Append(", \"position\": [").Append(Quote(c.Position.Relation)).Append(", ")
                  .Append(c.Position.Group.ToString(CultureInfo.InvariantCulture)).Append(']');
            sb.Append('}');
        }
        sb.Append(']');
    }

    /// <summary>A JSON string as Python's json.dumps writes it (ensure_ascii: non-ASCII as lowercase \uXXXX).</summary>
    static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (ch < 0x20 || ch > 0x7e) sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(ch);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Parses one metadata line; <paramref name="source"/> and <paramref name="lineNumber"/> (1-based) name it in errors.</summary>
    public static GenEvalMetadata ParseLine(string line, string source = "<metadata>", int lineNumber = 1)
    {
        string where = $"{source}:{lineNumber}";
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not valid JSON ({e.Message})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(where, $"expected a JSON object, got {root.ValueKind}");
            CheckKeys(root, where, "line", ["tag", "include", "exclude", "prompt"]);
            string tag = RequireString(root, "tag", where);
            if (!Tags.Contains(tag)) throw Bad(where, $"unknown tag '{tag}'; expected one of: {string.Join(", ", Tags)}");
            string prompt = RequireString(root, "prompt", where);
            if (!root.TryGetProperty("include", out var inc)) throw Bad(where, "missing key \"include\"");
            var include = ReadClauses(inc, "include", where, allowPosition: true);
            if (include.Count == 0) throw Bad(where, "\"include\" must list at least one clause");
            List<GenEvalClause>? exclude = null;
            if (root.TryGetProperty("exclude", out var exc)) exclude = ReadClauses(exc, "exclude", where, allowPosition: false);
            return new GenEvalMetadata(tag, include, exclude, prompt);
        }
    }

    /// <summary>Reads a metadata .jsonl file: every non-blank line is parsed (errors name the file and line).</summary>
    public static IReadOnlyList<(GenEvalMetadata Metadata, string Line, int LineNumber)> ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Metadata file not found: {path}", path);
        var result = new List<(GenEvalMetadata, string, int)>();
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            result.Add((ParseLine(line, path, i + 1), line, i + 1));
        }
        if (result.Count == 0) throw new InvalidDataException($"{path}: the metadata file has no lines.");
        return result;
    }

    static List<GenEvalClause> ReadClauses(JsonElement arr, string key, string where, bool allowPosition)
    {
        if (arr.ValueKind != JsonValueKind.Array) throw Bad(where, $"\"{key}\" must be a list, got {arr.ValueKind}");
        var list = new List<GenEvalClause>();
        int index = 0;
        foreach (var el in arr.EnumerateArray())
        {
            string at = $"{key}[{index}]";
            if (el.ValueKind != JsonValueKind.Object) throw Bad(where, $"{at} must be an object, got {el.ValueKind}");
            CheckKeys(el, where, at, allowPosition ? ["class", "count", "color", "position"] : ["class", "count", "color"]);
            string cls = RequireString(el, "class", where, at);
            if (!el.TryGetProperty("count", out var cnt)) throw Bad(where, $"{at} is missing \"count\"");
            if (cnt.ValueKind != JsonValueKind.Number || !cnt.TryGetInt32(out int count) || count < 1)
                throw Bad(where, $"{at}.count must be a positive integer, got {cnt.GetRawText()}");
            string? color = el.TryGetProperty("color", out _) ? RequireString(el, "color", where, at) : null;
            GenEvalPosition? position = null;
            if (el.TryGetProperty("position", out var pos))
            {
                if (pos.ValueKind != JsonValueKind.Array || pos.GetArrayLength() != 2
                    || pos[0].ValueKind != JsonValueKind.String || pos[1].ValueKind != JsonValueKind.Number || !pos[1].TryGetInt32(out int group))
                    throw Bad(where, $"{at}.position must be [relation, clause index], got {pos.GetRawText()}");
                string rel = pos[0].GetString()!;
                if (!Relations.Contains(rel)) throw Bad(where, $"{at}.position relation '{rel}' is not one of: {string.Join(", ", Relations)}");
                if (group < 0 || group >= index) throw Bad(where, $"{at}.position refers to include clause {group}, which is not an earlier clause");
                position = new GenEvalPosition(rel, group);
            }
            list.Add(new GenEvalClause(cls, count, color, position));
            index++;
        }
        return list;
    }

    static void CheckKeys(JsonElement obj, string where, string what, string[] allowed)
    {
        var seen = new HashSet<string>();
        foreach (var p in obj.EnumerateObject())
        {
            if (!allowed.Contains(p.Name)) throw Bad(where, $"unknown key \"{p.Name}\" in {what}; allowed: {string.Join(", ", allowed)}");
            if (!seen.Add(p.Name)) throw Bad(where, $"key \"{p.Name}\" appears twice in {what}");
        }
    }

    static string RequireString(JsonElement obj, string key, string where, string? at = null)
    {
        string name = at is null ? key : $"{at}.{key}";
        if (!obj.TryGetProperty(key, out var v)) throw Bad(where, $"missing key \"{name}\"");
        if (v.ValueKind != JsonValueKind.String) throw Bad(where, $"\"{name}\" must be a string, got {v.ValueKind}");
        var s = v.GetString()!;
        if (s.Length == 0) throw Bad(where, $"\"{name}\" is empty");
        return s;
    }

    static InvalidDataException Bad(string where, string problem) => new($"{where}: malformed GenEval metadata: {problem}.");
}
