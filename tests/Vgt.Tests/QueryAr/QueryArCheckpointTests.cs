using Vgt.Checkpoints;
using Vgt.Models.QueryAr;
using static TorchSharp.torch;

namespace Vgt.Tests.QueryAr;

/// <summary>The tiny mmengine-style .pth (real key layout) written by make_queryar_fixtures.py.</summary>
public sealed class QueryArCheckpointTests
{
    private static readonly string Pth = QueryArFixture.PathOf("vgt_ar_tiny.pth");

    [Fact]
    public void LoadsEmaWeightsAndReportsSkippedKeys()
    {
        var model = new QueryArModel(QueryArFixture.Config());
        var report = QueryArCheckpoint.Load(model, Pth);
        Assert.Equal("ema_state_dict", CheckpointReader.Open(Pth, new CheckpointOpenOptions { PreferEma = true }).StateDictKey);
        Assert.True(report.Load.IsComplete, report.ToString());
        Assert.Equal(model.state_dict().Count, report.Load.Loaded.Count);
        Assert.Equal(3, report.Skipped["vgt_ae (autoencoder)"]);
        Assert.Equal(1, report.Skipped["dinov3_extractor (REPA teacher)"]);
        Assert.Equal(1, report.Skipped["lm_head (unused)"]);
        Assert.Equal(1, report.Skipped["ema steps counter"]);
        Assert.Contains("skipped 3 vgt_ae (autoencoder), 1 dinov3_extractor", report.ToString());

        var expected = QueryArFixture.Read("model.safetensors").Tensors;
        foreach (var (name, value) in model.state_dict())
            Assert.True(value.equal(expected[name]).all().item<bool>(), $"{name} differs from the EMA weights");
    }

    [Fact]
    public void RawStateDictWhenEmaIsNotPreferred()
    {
        var model = new QueryArModel(QueryArFixture.Config());
        QueryArCheckpoint.Load(model, Pth, preferEma: false);
        var expected = QueryArFixture.Read("model.safetensors").Tensors;
        var w = model.state_dict()["image_out_projector.weight"];
        Assert.True((w - 1).allclose(expected["image_out_projector.weight"], rtol: 0, atol: 1e-6));   // the fixture's raw = EMA + 1
    }

    [Fact]
    public void RepaProjectorIsSkippedForAnInferenceModel()
    {
        var model = new QueryArModel(QueryArFixture.Config(repa: false));
        var report = QueryArCheckpoint.Load(model, Pth);
        Assert.True(report.Load.IsComplete, report.ToString());
        Assert.Equal(6, report.Skipped["repa_projector (training only)"]);
    }

    [Fact]
    public void StrictLoadRefusesAMissingLayer()
    {
        var config = QueryArFixture.Config();
        var model = new QueryArModel(config with { Llm = config.Llm with { NumHiddenLayers = 3 } });
        var e = Assert.Throws<CheckpointLoadException>(() => QueryArCheckpoint.Load(model, Pth));
        Assert.Contains("lmm.language_model.model.layers.2", e.Message);
    }
}
