using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vgt.Evaluation;

/// <summary>JSON of evaluation reports: indented, snake_case names, NaN/∞ allowed (a metric can be undefined).</summary>
public static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
