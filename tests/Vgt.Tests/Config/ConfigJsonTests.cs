using Vgt.Config;

namespace Vgt.Tests.Config;

public class ConfigJsonTests
{
    public enum Shape { Circle, Square }

    public sealed record SampleConfig(int Steps, double CfgScale, Shape Kind, IReadOnlyList<int> Widths, string? Note = null) : IValidatable
    {
        public void Validate()
        {
            ConfigValidationException.Require(Steps >= 1, "steps", $"must be at least 1, got {Steps}");
            ConfigValidationException.Require(double.IsFinite(CfgScale), "cfg_scale", $"must be finite, got {CfgScale}");
        }
    }

    [Fact]
    public void RoundTripsWithSnakeCaseNamesAndStringEnums()
    {
        var c = new SampleConfig(30, 4.5, Shape.Square, [128, 256]);
        var json = ConfigJson.Serialize(c);
        Assert.Contains("\"cfg_scale\": 4.5", json);
        Assert.Contains("\"kind\": \"square\"", json);
        var back = ConfigJson.Deserialize<SampleConfig>(json);
        Assert.Equal(c.Steps, back.Steps);
        Assert.Equal(c.Widths, back.Widths);
        Assert.Equal(c.Kind, back.Kind);
        Assert.Equal(json, ConfigJson.Serialize(back));
    }

    [Fact]
    public void ValidationErrorNamesTheField()
    {
        var e = Assert.Throws<ConfigValidationException>(() =>
            ConfigJson.Deserialize<SampleConfig>("""{"steps": 0, "cfg_scale": 1, "kind": "circle", "widths": []}"""));
        Assert.Equal("steps", e.Field);
        Assert.Contains("'steps'", e.Message);
    }

    [Fact]
    public void UnknownFieldsAndWrongTypesAreRefusedWithTheirPath()
    {
        var unknown = Assert.Throws<ConfigValidationException>(() =>
            ConfigJson.Deserialize<SampleConfig>("""{"steps": 1, "cfg_scale": 1, "kind": "circle", "widths": [], "stpes": 3}""", "my.json"));
        Assert.Contains("stpes", unknown.Message);
        Assert.Contains("my.json", unknown.Message);
        var wrongType = Assert.Throws<ConfigValidationException>(() =>
            ConfigJson.Deserialize<SampleConfig>("""{"steps": "many", "cfg_scale": 1, "kind": "circle", "widths": []}"""));
        Assert.Equal("$.steps", wrongType.Field);
    }

    [Fact]
    public void SaveIsAtomicAndLoadsBack()
    {
        var dir = Directory.CreateTempSubdirectory("vgt-config-").FullName;
        try
        {
            var path = Path.Combine(dir, "sub", "c.json");
            ConfigJson.Save(new SampleConfig(3, 2, Shape.Circle, [1]), path);
            Assert.Equal(3, ConfigJson.Load<SampleConfig>(path).Steps);
            Assert.Single(Directory.GetFiles(Path.Combine(dir, "sub")));
            Assert.Throws<FileNotFoundException>(() => ConfigJson.Load<SampleConfig>(Path.Combine(dir, "missing.json")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
