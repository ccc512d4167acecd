using System.Text.Json;
using System.Text.Json.Serialization;
using Vgt.IO;

namespace Vgt.Config;

/// <summary>A configuration record that can say what is wrong with it.</summary>
public interface IValidatable
{
    /// <summary>Throws <see cref="ConfigValidationException"/> naming the first invalid field.</summary>
    void Validate();
}

/// <summary>A configuration value that is out of range, with the field's JSON name and what is allowed.</summary>
public sealed class ConfigValidationException(string field, string problem)
    : Exception($"Invalid configuration field '{field}': {problem}")
{
    public string Field { get; } = field;

    /// <summary>Throws when <paramref name="ok"/> is false.</summary>
    public static void Require(bool ok, string field, string problem)
    {
        if (!ok) throw new ConfigValidationException(field, problem);
    }
}

/// <summary>JSON (de)serialisation of config records: snake_case names, enums as strings, unknown fields refused.</summary>
public static class ConfigJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static string Serialize<T>(T config) => JsonSerializer.Serialize(config, Options);

    /// <summary>Parses and validates; errors name the field (JSON path) and the source.</summary>
    public static T Deserialize<T>(string json, string source = "<string>")
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 0 } p ? $" at '{p}'" : "";
            throw new ConfigValidationException(e.Path ?? "$", $"{source}{where}: {e.Message}");
        }
        if (value is null) throw new ConfigValidationException("$", $"{source}: the document is null");
        if (value is IValidatable v) v.Validate();
        return value;
    }

    public static T Load<T>(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file not found: {path}", path);
        return Deserialize<T>(File.ReadAllText(path), path);
    }

    /// <summary>Writes atomically (temp file + rename).</summary>
    public static void Save<T>(T config, string path) => AtomicFile.WriteAllText(path, Serialize(config) + "\n");
}
