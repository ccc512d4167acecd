using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vgt.Imaging;

/// <summary>
/// Everything needed to regenerate an image, stored in the PNG it was saved to: as JSON in an <c>iTXt</c>
/// chunk with keyword <see cref="JsonKeyword"/> (what <see cref="FromPng(string)"/> reads back) and as a
/// human-readable summary in a <c>parameters</c> text chunk, the line format other image tools show.
/// </summary>
public sealed record GenerationParameters
{
    /// <summary>PNG keyword of the JSON entry.</summary>
    public const string JsonKeyword = "vgt:parameters";

    /// <summary>PNG keyword of the human-readable entry.</summary>
    public const string TextKeyword = "parameters";

    public required string Prompt { get; init; }
    /// <summary>Negative / unconditional prompt; null = the model's default CFG prompt.</summary>
    public string? NegativePrompt { get; init; }
    public required long Seed { get; init; }
    /// <summary>Classifier-free guidance scale (1 = no guidance).</summary>
    public double CfgScale { get; init; } = 1.0;
    /// <summary>How the guidance scale changes over the groups, e.g. "linear" or "constant".</summary>
    public string CfgSchedule { get; init; } = "constant";
    /// <summary>Head sampler steps per token group.</summary>
    public int Steps { get; init; }
    /// <summary>Sampler name, e.g. "euler_maruyama".</summary>
    public string Sampler { get; init; } = "";
    /// <summary>Tokens decoded per step (the reference's acc_ratio; 1 = one position per step).</summary>
    public int Parallel { get; init; } = 1;
    /// <summary>Token order, e.g. "random" or "raster".</summary>
    public string Order { get; init; } = "";
    public int Width { get; init; }
    public int Height { get; init; }
    public string ModelId { get; init; } = "";
    public string ModelVersion { get; init; } = "";
    /// <summary>VGT.NET version that produced the image.</summary>
    public string LibraryVersion { get; init; } = "";
    /// <summary>Any other setting (temperature, head noise scale, checkpoint hash, ...), written in key order.</summary>
    public IReadOnlyDictionary<string, string> Extras { get; init; } = new Dictionary<string, string>();

    /// <summary>snake_case JSON; unknown fields are ignored on reading so older builds can read newer files.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson() => JsonSerializer.Serialize(this with { Extras = new SortedDictionary<string, string>(Extras.ToDictionary(), StringComparer.Ordinal) }, JsonOptions);

    public static GenerationParameters FromJson(string json, string source = "<string>")
    {
        try
        {
            return JsonSerializer.Deserialize<GenerationParameters>(json, JsonOptions)
                ?? throw new ImageFormatException(source, $"the '{JsonKeyword}' entry is JSON null");
        }
        catch (JsonException e)
        {
            throw new ImageFormatException(source, $"the '{JsonKeyword}' entry is not valid generation parameters JSON: {e.Message}");
        }
    }

    /// <summary>
    /// The human-readable summary: prompt, then "Negative prompt: …" when set, then one line of
    /// "Key: value" pairs (Steps, Sampler, CFG scale, CFG schedule, Seed, Size, Model, …, then the extras).
    /// </summary>
    public string ToDisplayText()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(Prompt);
        if (NegativePrompt is not null) sb.Append("\nNegative prompt: ").Append(NegativePrompt);
        var pairs = new List<(string, string)>
        {
            ("Steps", Steps.ToString(inv)),
            ("Sampler", Sampler),
            ("CFG scale", CfgScale.ToString("R", inv)),
            ("CFG schedule", CfgSchedule),
            ("Seed", Seed.ToString(inv)),
            ("Size", $"{Width.ToString(inv)}x{Height.ToString(inv)}"),
            ("Order", Order),
            ("Parallel", Parallel.ToString(inv)),
            ("Model", ModelId),
            ("Model version", ModelVersion),
            ("Version", $"VGT.NET {LibraryVersion}"),
        };
        pairs.AddRange(Extras.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value)));
        sb.Append('\n').Append(string.Join(", ", pairs.Select(p => $"{p.Item1}: {p.Item2}")));
        return sb.ToString();
    }

    /// <summary>The two PNG text entries: JSON (iTXt) and the display text (tEXt when Latin-1, else iTXt).</summary>
    public IReadOnlyList<PngTextEntry> ToPngText() =>
    [
        new(JsonKeyword, ToJson(), PngTextKind.International),
        new(TextKeyword, ToDisplayText(), PngTextKind.Auto),
    ];

    /// <summary>Returns PNG bytes with these parameters stored in them.</summary>
    public byte[] WriteTo(byte[] png) => PngText.Write(png, ToPngText());

    /// <summary>Reads the parameters stored in a PNG file; null when it has no <see cref="JsonKeyword"/> entry.</summary>
    public static GenerationParameters? FromPng(string path) => FromText(PngText.Read(path), path);

    /// <summary>Reads the parameters stored in PNG bytes; null when there is no <see cref="JsonKeyword"/> entry.</summary>
    public static GenerationParameters? FromPng(byte[] png, string source = "<bytes>") => FromText(PngText.Read(png, source), source);

    private static GenerationParameters? FromText(IReadOnlyDictionary<string, string> text, string source) =>
        text.TryGetValue(JsonKeyword, out var json) ? FromJson(json, source) : null;
}
