using TorchSharp;
using Vgt.Config;
using Vgt.Losses;
using Vgt.Models.Perceptual;
using static TorchSharp.torch;

namespace Vgt.Tests.Losses;

public class VgtAeLossTests
{
    sealed class PixelTeacher : IFeatureExtractor
    {
        public string Name => "pixels";
        public Tensor Features(Tensor images) => images.flatten(1);
    }

    static AeLossConfig SmallConfig(long start) => AeLossConfig.Stage2 with
    {
        PerceptualLoss = "teacher",
        DiscriminatorStart = start,
        Discriminator = new DiscriminatorConfig { HiddenChannels = 8, GroupNormGroups = 4, PoolSize = 2 },
    };

    static (Tensor X, Tensor Xr) Batch()
    {
        var g = new Generator(1).manual_seed(11);
        var x = rand(2, 3, 16, 16, generator: g) * 2 - 1;
        var xr = x + 0.2 * randn(2, 3, 16, 16, generator: g);   // unclamped: may leave [−1,1]
        return (x, xr);
    }

    [Fact]
    public void GeneratorTotalIsTheWeightedSumAndGanStartsAtTheConfiguredStep()
    {
        var perceptual = new FeaturePerceptualLoss(new PixelTeacher());
        var loss = new VgtAeLoss(SmallConfig(start: 5), perceptual, new Generator(1).manual_seed(1));
        var (x, xr) = Batch();
        var distill = tensor(0.7f);
        var kl = tensor(new float[] { 3f, 5f });
        var extras = new AeLossExtras(distill, kl);

        var x01 = (x + 1) / 2; var xr01 = (xr + 1) / 2;
        double rec = (x01 - xr01).square().mean().item<float>();
        double perc = perceptual.Loss(x01, xr01).item<float>();
        double gan;
        using (no_grad()) gan = -loss.Discriminator.forward(xr01).mean().item<float>();

        var before = loss.GeneratorLoss(x, xr, extras, globalStep: 4);
        double expectedBefore = rec + 0.1 * 0.7 + 1.1 * perc + 1e-6 * 4.0;
        Assert.Equal(expectedBefore, before.Loss.item<float>(), 5);
        Assert.Equal(0.0, before.Logs["discriminator_factor"]);
        Assert.Equal(0.0, before.Logs["gan_loss"]);

        var after = loss.GeneratorLoss(x, xr, extras, globalStep: 5);
        Assert.Equal(expectedBefore + 0.1 * gan, after.Loss.item<float>(), 5);
        Assert.Equal(gan, after.Logs["gan_loss"], 5);
        Assert.Equal(0.1 * gan, after.Logs["weighted_gan_loss"], 5);
        Assert.Equal(1.1 * perc, after.Logs["perceptual_loss"], 5);
        Assert.Equal(rec, after.Logs["reconstruction_loss"], 6);
        Assert.Equal(1e-6 * 4.0, after.Logs["kl_loss"], 9);
        Assert.Equal(0.1, after.Logs["d_weight"]);
        Assert.Equal(after.Loss.item<float>(), after.Logs["total_loss"], 5);
    }

    /// <summary>The same batch through SmallConfig and through <paramref name="withTerm"/>, and the weighted term computed
    /// directly on [0, 1] pixels by <paramref name="term"/>.</summary>
    static (double Expected, AeLossOutput Without, AeLossOutput With) WithAndWithoutTerm(AeLossConfig withTerm, Func<Tensor, Tensor, double> term)
    {
        var perceptual = new FeaturePerceptualLoss(new PixelTeacher());
        var plain = new VgtAeLoss(SmallConfig(start: 100), perceptual, new Generator(1).manual_seed(1));
        var weighted = new VgtAeLoss(withTerm, perceptual, new Generator(1).manual_seed(1));
        var (a, b) = Batch();
        var extras = new AeLossExtras(tensor(0.7f), tensor(new float[] { 3f, 5f }));
        return (term((a + 1) / 2, (b + 1) / 2), plain.GeneratorLoss(a, b, extras, globalStep: 0), weighted.GeneratorLoss(a, b, extras, globalStep: 0));
    }

    [Fact]
    public void OutlierTermChargesOnlyErrorsBeyondTheThresholdQuadratically()
    {
        var x = zeros(1, 1, 1, 4);
        var xr = tensor(new float[] { 0.01f, -0.04f, 0.25f, -0.55f }).reshape(1, 1, 1, 4);
        // excesses over δ = 0.05: 0, 0, 0.2, 0.5 → mean of squares (0.04 + 0.25) / 4
        Assert.Equal(0.0725, VgtAeLoss.OutlierLoss(x, xr, 0.05).item<float>(), 6);

        var (expected, p0, p1) = WithAndWithoutTerm(SmallConfig(start: 100) with { OutlierWeight = 20, OutlierThreshold = 0.1 },
            (x01, xr01) => 20 * VgtAeLoss.OutlierLoss(x01, xr01, 0.1).item<float>());
        Assert.True(expected > 0);
        Assert.Equal(expected, p1.Logs["outlier_loss"], 6);
        Assert.Equal(p0.Loss.item<float>() + expected, p1.Loss.item<float>(), 5);
        Assert.Equal(0.0, p0.Logs["outlier_loss"]);
        Assert.Throws<ConfigValidationException>(() => (AeLossConfig.Stage2 with { OutlierThreshold = 1.5 }).Validate());
        Assert.Throws<ConfigValidationException>(() => (AeLossConfig.Stage2 with { OutlierWeight = -1 }).Validate());
    }

    [Fact]
    public void EdgeTermComparesNeighbourDifferencesAndIgnoresAConstantOffset()
    {
        // a step edge 0 → 1 between columns 1 and 2; the reconstruction ramps over two pixels
        var x = tensor(new float[] { 0, 0, 1, 1 }).reshape(1, 1, 1, 4);
        var ramp = tensor(new float[] { 0, 0.25f, 0.75f, 1 }).reshape(1, 1, 1, 4);
        // horizontal differences: x (0, 1, 0), ramp (0.25, 0.5, 0.25) → mean |Δ| = (0.25 + 0.5 + 0.25) / 3; no vertical pairs
        Assert.Equal(1.0 / 3, VgtAeLoss.EdgeLoss(x, ramp).item<float>(), 6);
        Assert.Equal(0.0, VgtAeLoss.EdgeLoss(x, x + 0.3).item<float>(), 6);     // a flat offset has the same edges
        var x2 = tensor(new float[] { 0, 1, 0, 1 }).reshape(1, 1, 2, 2);
        var r2 = tensor(new float[] { 0, 1, 0.5f, 1 }).reshape(1, 1, 2, 2);
        // horizontal: rows (1 vs 1) and (1 vs 0.5) → mean 0.25; vertical: columns (0 vs 0.5), (0 vs 0) → mean 0.25
        Assert.Equal(0.5, VgtAeLoss.EdgeLoss(x2, r2).item<float>(), 6);

        var (expected, p0, p1) = WithAndWithoutTerm(SmallConfig(start: 100) with { EdgeWeight = 0.5 },
            (x01, xr01) => 0.5 * VgtAeLoss.EdgeLoss(x01, xr01).item<float>());
        Assert.True(expected > 0);
        Assert.Equal(expected, p1.Logs["edge_loss"], 6);
        Assert.Equal(p0.Loss.item<float>() + expected, p1.Loss.item<float>(), 5);
        Assert.Equal(0.0, p0.Logs["edge_loss"]);
        Assert.Throws<ConfigValidationException>(() => (AeLossConfig.Stage2 with { EdgeWeight = double.NaN }).Validate());
    }

    [Fact]
    public void GeneratorGradientDoesNotReachTheDiscriminator()
    {
        var loss = new VgtAeLoss(SmallConfig(start: 0), new FeaturePerceptualLoss(new PixelTeacher()));
        var (x, xr) = Batch();
        xr.requires_grad_(true);
        loss.GeneratorLoss(x, xr, AeLossExtras.None, 0).Loss.backward();
        Assert.NotNull(xr.grad);
        Assert.All(loss.Discriminator.parameters(), p => Assert.True(p.grad is null));
        var d = loss.DiscriminatorLoss(x, xr, 0);
        d.Loss.backward();
        Assert.All(loss.Discriminator.parameters(), p => Assert.True(p.requires_grad && p.grad is not null));
    }

    [Fact]
    public void DiscriminatorLossIsHingePlusLeCamWithOldEmasThenUpdatesThem()
    {
        var loss = new VgtAeLoss(SmallConfig(start: 0), new FeaturePerceptualLoss(new PixelTeacher()), new Generator(1).manual_seed(2));
        var (x, xr) = Batch();
        Tensor lr, lf;
        using (no_grad()) { lr = loss.Discriminator.forward((x + 1) / 2); lf = loss.Discriminator.forward((xr + 1) / 2); }
        double rm = lr.mean().item<float>(), fm = lf.mean().item<float>();
        double hinge = GanLosses.HingeDiscriminator(lr, lf).item<float>();

        var first = loss.DiscriminatorLoss(x, xr, 3);
        double lecam1 = 0.001 * (Math.Pow(Math.Max(rm - 0, 0), 2) + Math.Pow(Math.Max(0 - fm, 0), 2));
        Assert.Equal(hinge + lecam1, first.Loss.item<float>(), 5);
        Assert.Equal(lecam1, first.Logs["lecam_loss"], 6);
        Assert.Equal(0.001 * rm, loss.LecamEmas.Real, 7);
        Assert.Equal(0.001 * fm, loss.LecamEmas.Fake, 7);

        var second = loss.DiscriminatorLoss(x, xr, 4);
        double er = 0.001 * rm, ef = 0.001 * fm;
        double lecam2 = 0.001 * (Math.Pow(Math.Max(rm - ef, 0), 2) + Math.Pow(Math.Max(er - fm, 0), 2));
        Assert.Equal(lecam2, second.Logs["lecam_loss"], 6);
        Assert.Equal(0.999 * er + 0.001 * rm, loss.LecamEmas.Real, 7);
    }

    [Fact]
    public void StateDictHasTheReferenceNames()
    {
        var cn = new ConvNeXt(new ConvNeXtConfig { Dims = [8, 16], Depths = [1, 1], NumClasses = 5 });
        var loss = new VgtAeLoss(AeLossConfig.Stage1 with { PerceptualLoss = "convnext_s", Discriminator = DiscriminatorConfig.ShapesWorld },
            new PerceptualLoss(null, cn));
        var keys = loss.state_dict().Keys.ToHashSet();
        Assert.Contains("discriminator.block_in.0.weight", keys);
        Assert.Contains("discriminator.to_logits.2.bias", keys);
        Assert.Contains("perceptual_loss.convnext.features.1.0.layer_scale", keys);
        Assert.Contains("ema_real_logits_mean", keys);
        Assert.Contains("ema_fake_logits_mean", keys);
        Assert.Contains("logvar", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("perceptual."));
        Assert.All(loss.DiscriminatorParameters(), p => Assert.StartsWith("discriminator.", p.Name));
        Assert.Equal(loss.Discriminator.parameters().Count(), loss.DiscriminatorParameters().Count());
    }

    [Fact]
    public void PresetsCarryTheReferenceValuesAndRoundTripThroughJson()
    {
        var s1 = AeLossConfig.Stage1; var s2 = AeLossConfig.Stage2;
        Assert.Equal((1.0, 30_000L), (s1.DistillWeight, s1.DiscriminatorStart));
        Assert.Equal((0.1, 10_000L), (s2.DistillWeight, s2.DiscriminatorStart));
        foreach (var c in new[] { s1, s2 })
        {
            Assert.Equal("lpips-convnext_s-1.0-0.1", c.PerceptualLoss);
            Assert.Equal((1.1, 0.1, 1.0, 0.001, 0.999, 1e-6), (c.PerceptualWeight, c.DiscriminatorWeight, c.DiscriminatorFactor,
                c.LecamRegularizationWeight, c.LecamEmaDecay, c.KlWeight));
            Assert.Equal(ReconstructionKind.L2, c.ReconstructionLoss);
            Assert.Equal((128, 3, 32, 16), (c.Discriminator.HiddenChannels, c.Discriminator.NumStages, c.Discriminator.GroupNormGroups, c.Discriminator.PoolSize));
        }
        var json = ConfigJson.Serialize(s2);
        Assert.Contains("\"lecam_regularization_weight\"", json);
        Assert.Contains("\"l2\"", json);
        Assert.Equal(ConfigJson.Serialize(ConfigJson.Deserialize<AeLossConfig>(json)), json);
        var e = Assert.Throws<ConfigValidationException>(() => ConfigJson.Deserialize<AeLossConfig>(json.Replace("\"lpips-convnext_s-1.0-0.1\"", "\"vgg\"")));
        Assert.Equal("perceptual_loss", e.Field);
    }

    [Fact]
    public void KlOfAStandardNormalIsZero()
    {
        Assert.Equal(0f, KlDivergence.DiagonalGaussian(zeros(2, 3, 2, 2), zeros(2, 3, 2, 2)).abs().max().item<float>());
        var kl = KlDivergence.DiagonalGaussian(ones(1, 2, 1, 1), zeros(1, 2, 1, 1));   // 0.5·Σ μ² = 1
        Assert.Equal(1f, kl.item<float>(), 6);
    }
}
