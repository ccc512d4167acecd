using TorchSharp;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.Training;

public class TrainingUtilitiesTests
{
    [Fact]
    public void ArPretrainScheduleMatchesTheReferenceCurve()
    {
        // Reference: lr(i) = 3e-4·(1e-5 + (1−1e-5)·i/1000) for i < 1000; then 1e-4 + 2e-4·(1 + cos(π(i−1000)/99000))/2.
        var s = new WarmupCosineSchedule(1000, 100_000, EndFactor: 1e-4 / 3e-4, WarmupStartFactor: 1e-5);
        Assert.Equal(3e-4 * 1e-5, 3e-4 * s.Multiplier(0), 12);
        Assert.Equal(3e-4 * (1e-5 + (1 - 1e-5) * 0.5), 3e-4 * s.Multiplier(500), 12);
        Assert.Equal(3e-4, 3e-4 * s.Multiplier(1000), 12);
        Assert.Equal(1e-4 + 2e-4 * (1 + Math.Cos(Math.PI * 49_000 / 99_000)) / 2, 3e-4 * s.Multiplier(50_000), 12);
        Assert.Equal(1e-4, 3e-4 * s.Multiplier(100_000), 12);
    }

    [Fact]
    public void AeScheduleWarmsUpFromZeroAndScalesGroupsProportionally()
    {
        var s = new WarmupCosineSchedule(3000, 100_000, EndFactor: 1e-5 / 1e-4);
        Assert.Equal(0.0, s.Multiplier(0));
        Assert.Equal(0.5, s.Multiplier(1500), 12);
        // The encoder group (0.5× LR) ends at 0.5 × end_lr.
        Assert.Equal(0.5 * 1e-5, 0.5 * 1e-4 * s.Multiplier(100_000), 15);
    }

    [Fact]
    public void AeDecayRuleMatchesTheReferenceGroups()
    {
        using var scope = NewDisposeScope();
        var named = new List<(string, TorchSharp.Modules.Parameter)>
        {
            ("encoder.embeddings.patch_embedding.weight", new TorchSharp.Modules.Parameter(zeros(4, 3, 2, 2))),
            ("encoder.encoder.layers.0.attn.qkv.weight", new TorchSharp.Modules.Parameter(zeros(6, 2))),
            ("encoder.encoder.layers.0.ls1", new TorchSharp.Modules.Parameter(zeros(2))),
            ("mlp1.1.weight", new TorchSharp.Modules.Parameter(zeros(2, 2))),
            ("decoder.up_blocks.0.1.norm.weight", new TorchSharp.Modules.Parameter(zeros(2))),
            ("teacher.x.weight", new TorchSharp.Modules.Parameter(zeros(2, 2), requires_grad: false)),
        };
        var (opt, groups) = ParameterGroups.CreateAdamW(named, DecayRule.VgtAe(), lr: 1e-4, weightDecay: 1e-4);
        var byGroup = groups.ToDictionary(g => g.Group, g => g.Names);
        Assert.Equal(["encoder.encoder.layers.0.attn.qkv.weight"], byGroup["scaled/decay"]);
        Assert.Equal(["encoder.embeddings.patch_embedding.weight", "encoder.encoder.layers.0.ls1"], byGroup["scaled/no_decay"]);
        Assert.Equal(["mlp1.1.weight"], byGroup["base/decay"]);
        Assert.Equal(["decoder.up_blocks.0.1.norm.weight"], byGroup["base/no_decay"]);
        Assert.DoesNotContain(groups, g => g.Names.Contains("teacher.x.weight"));
        var lrs = opt.ParamGroups.Select(g => g.LearningRate).ToList();
        Assert.Equal([1e-4, 1e-4, 5e-5, 5e-5], lrs);
    }

    [Fact]
    public void EmaCopiesBeforeStartAndAveragesAfter()
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(1, 1, hasBias: false);
        using (no_grad()) model.weight!.fill_(1.0f);
        using var ema = new Ema(model, decay: 0.9, startStep: 2);
        using (no_grad()) model.weight!.fill_(3.0f);
        ema.Update(1); // before start: copy
        Assert.Equal(3.0f, ema.StateDict()["weight"].item<float>());
        using (no_grad()) model.weight!.fill_(13.0f);
        ema.Update(2); // avg += 0.1·(13 − 3)
        Assert.Equal(4.0f, ema.StateDict()["weight"].item<float>(), 5);
    }
}
