using Vgt.Config;
using Vgt.Models.FlowHead;

namespace Vgt.Tests.FlowHead;

public class FlowHeadConfigTests
{
    [Fact]
    public void ParsesSnakeCaseJsonWithRepa()
    {
        const string json = """
            {"input_dim": 32, "cond_dim": 1536, "width": 1536, "depth": 12, "mlp_ratio": 1.0, "freq_dim": 256,
             "timeshift": 1.4, "repa": {"feature_dim": 768, "depth": 6, "projector_dim": 2048}}
            """;
        var c = ConfigJson.Deserialize<FlowHeadConfig>(json);
        Assert.Equal(1536, c.CondDim);
        Assert.Equal(1536, c.MlpHidden);
        Assert.Equal(1.4, c.Timeshift);
        Assert.Equal(new RepaConfig { FeatureDim = 768, Depth = 6, ProjectorDim = 2048 }, c.Repa);
        Assert.Equal(c, ConfigJson.Deserialize<FlowHeadConfig>(ConfigJson.Serialize(c)));
        Assert.Contains("\"mlp_ratio\"", ConfigJson.Serialize(c));
    }

    [Fact]
    public void NullTimeshiftAndNoRepaAreAllowed()
    {
        var c = ConfigJson.Deserialize<FlowHeadConfig>("""{"cond_dim": 2048, "timeshift": null}""");
        Assert.Null(c.Timeshift);
        Assert.Null(c.Repa);
        Assert.Equal(12, c.Depth);
    }

    [Theory]
    [InlineData("""{"depth": 0}""", "depth")]
    [InlineData("""{"freq_dim": 255}""", "freq_dim")]
    [InlineData("""{"mlp_ratio": 0}""", "mlp_ratio")]
    [InlineData("""{"timeshift": -1}""", "timeshift")]
    [InlineData("""{"depth": 4, "repa": {"depth": 5}}""", "repa.depth")]
    [InlineData("""{"repa": {"feature_dim": 0}}""", "repa.feature_dim")]
    [InlineData("""{"widht": 8}""", "widht")]
    public void BadValuesNameTheField(string json, string field)
    {
        var e = Assert.Throws<ConfigValidationException>(() => ConfigJson.Deserialize<FlowHeadConfig>(json));
        Assert.Contains(field, e.Message);
    }
}
