using TorchSharp;
using Vgt.Losses;
using Vgt.Models.Perceptual;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vgt.Tests.Losses;

public class PerceptualTests(ITestOutputHelper output)
{
    static readonly ConvNeXtConfig Tiny = new() { Dims = [8, 16, 24, 32], Depths = [1, 1, 2, 1], NumClasses = 10 };

    /// <summary>
    /// The user-file path end to end: hash weights written under torchvision's VGG16 names (features.{i}.*, plus an
    /// unused classifier key) and taming's lin{k}.model.1.weight, loaded with Lpips.FromFiles, compared with the
    /// PyTorch LPIPS on the same weights.
    /// </summary>
    [Fact]
    public void LpipsFromTorchvisionAndTamingFilesMatchesTheReference()
    {
        var names = LossFixtures.ReferenceNames("lpips_hash");
        var dir = Directory.CreateTempSubdirectory("vgt-lpips-");
        try
        {
            var vgg = new Dictionary<string, Tensor> { ["classifier.0.weight"] = zeros(4, 4) };
            var lin = new Dictionary<string, Tensor>();
            foreach (var (name, shape) in names)
            {
                if (name.StartsWith("scaling_layer.")) continue;
                var w = HashWeights.Value(name, shape).to(float32);
                if (name.StartsWith("net.")) vgg["features." + name.Split('.', 3)[2]] = w;   // net.slice2.5.weight → features.5.weight
                else lin[name] = w;
            }
            string vggPath = Path.Combine(dir.FullName, "vgg16.safetensors"), linPath = Path.Combine(dir.FullName, "vgg.safetensors");
            TorchSharp.PyBridge.Safetensors.SaveStateDict(vggPath, vgg);
            TorchSharp.PyBridge.Safetensors.SaveStateDict(linPath, lin);
            Assert.Equal("net.slice2.5.weight", LpipsVgg16.SliceNameOf("features.5.weight"));
            Assert.Equal("net.slice5.28.bias", LpipsVgg16.SliceNameOf("features.28.bias"));

            var lp = Lpips.FromFiles(vggPath, linPath);
            LossFixtures.AssertSameNames(lp, "lpips_hash");
            Assert.All(lp.parameters(), p => Assert.False(p.requires_grad));
            var f = LossFixtures.Load("lpips_hash");
            using (no_grad())
            {
                var terms = lp.LayerTerms(f["a"], f["b"]);
                double e = LossFixtures.RelErr(lp.forward(f["a"], f["b"]), f["y"]);
                output.WriteLine($"LPIPS-VGG16 (hash weights, 2×3×64×64): rel err {e:E2}");
                Assert.True(e < LossFixtures.Tolerance, $"LPIPS: {e:E2}");
                for (int k = 0; k < 5; k++)
                {
                    double ek = LossFixtures.RelErr(terms[k].view(-1), f["terms"][k]);
                    Assert.True(ek < LossFixtures.Tolerance, $"LPIPS layer {k}: {ek:E2}");
                }
                Assert.Equal(0.0, lp.forward(f["a"], f["a"]).abs().max().item<float>(), 9);
            }

            TorchSharp.PyBridge.Safetensors.SaveStateDict(Path.Combine(dir.FullName, "bad.safetensors"), new Dictionary<string, Tensor> { ["lin0.model.1.weight"] = zeros(1, 64, 1, 1) });
            var err = Assert.Throws<InvalidDataException>(() => Lpips.FromFiles(Path.Combine(dir.FullName, "bad.safetensors"), linPath));
            Assert.Contains("missing", err.Message);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void ConvNeXtSmallMatchesTheReferenceWithHashWeights()
    {
        var net = HashWeights.Fill(new ConvNeXt(ConvNeXtConfig.Small));
        LossFixtures.AssertSameNames(net, "convnext_s_hash");
        var f = LossFixtures.Load("convnext_s_hash");
        using var _ = no_grad();
        double e = LossFixtures.RelErr(net.forward(f["x"]), f["y"]);
        output.WriteLine($"ConvNeXt-S (hash weights, 2×3×64×64 → logits): rel err {e:E2}");
        Assert.True(e < LossFixtures.Tolerance, $"ConvNeXt-S: {e:E2}");
    }

    [Fact]
    public void CombinedLpipsConvNextLossMatchesTheReference()
    {
        var f = LossFixtures.Load("perceptual_tiny");
        var convnext = HashWeights.Fill(new ConvNeXt(Tiny));
        LossFixtures.AssertSameNames(convnext, "perceptual_tiny");
        var lpips = HashWeights.Fill(new Lpips());
        var spec = PerceptualLossSpec.Parse("lpips-convnext_s-1.0-0.1");
        Assert.Equal((1.0, 0.1), (spec.LpipsWeight!.Value, spec.ConvNextWeight!.Value));
        var loss = PerceptualLoss.FromSpec(spec, lpips, convnext);
        var cnOnly = new PerceptualLoss(null, convnext);
        using var _ = no_grad();
        double eResize = LossFixtures.RelErr(
            nn.functional.interpolate(f["a"], [224, 224], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true)
                .index_select(2, arange(0, 224, 7)).index_select(3, arange(0, 224, 7)), f["a_resized_224"]);
        double eCn = LossFixtures.RelErr(cnOnly.Loss(f["a"], f["b"]), f["convnext_loss"]);
        double eAll = LossFixtures.RelErr(loss.Loss(f["a"], f["b"]), f["combined"]);
        output.WriteLine($"perceptual tiny: resize {eResize:E2}, ConvNeXt MSE {eCn:E2}, combined {eAll:E2}");
        Assert.True(eResize < 1e-5, $"antialiased resize: {eResize:E2}");
        Assert.True(eCn < LossFixtures.Tolerance, $"ConvNeXt logits MSE: {eCn:E2}");
        Assert.True(eAll < LossFixtures.Tolerance, $"combined: {eAll:E2}");
        Assert.Contains("convnext.features.0.0.weight", loss.state_dict().Keys);
        Assert.Contains("lpips.lin4.model.1.weight", loss.state_dict().Keys);
        Assert.Contains("imagenet_std", loss.state_dict().Keys);
    }

    [Fact]
    public void WeightFileReadsZipFormatTorchSave()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "losses", "tiny_state.pth");
        var sd = WeightFile.Read(path);
        Assert.Equal(new[] { "features.0.weight", "lin0.model.1.weight" }, sd.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, sd["features.0.weight"].data<float>().ToArray());
        Assert.Throws<FileNotFoundException>(() => WeightFile.Read(path + ".missing"));
    }

    [Theory]
    [InlineData("lpips", true, false)]
    [InlineData("convnext_s", false, true)]
    [InlineData("lpips-convnext_s-1.0-0.1", true, true)]
    public void SpecNamesTheNetworks(string name, bool lp, bool cn)
    {
        var s = PerceptualLossSpec.Parse(name);
        Assert.Equal((lp, cn, false), (s.Lpips, s.ConvNext, s.Teacher));
    }

    [Theory]
    [InlineData("vgg")]
    [InlineData("lpips-convnext_s-1.0")]
    [InlineData("lpips-convnext_s-x-0.1")]
    public void BadSpecsAreRejected(string name) => Assert.Throws<ArgumentException>(() => PerceptualLossSpec.Parse(name));

    /// <summary>A fixed random linear "teacher": [B,3,8,8] → [B,4 tokens,6].</summary>
    sealed class LinearTeacher : IFeatureExtractor
    {
        public readonly Tensor W = randn(192, 24, generator: new Generator(1).manual_seed(7));
        public string Name => "teacher";
        public Tensor Features(Tensor images) => images.flatten(1).matmul(W).view(-1, 4, 6);
    }

    [Fact]
    public void FeaturePerceptualLossIsTheMseOfUnitFeaturesWithGradientOnlyThroughReconstructions()
    {
        var teacher = new LinearTeacher();
        var loss = new FeaturePerceptualLoss(teacher);
        var g = new Generator(1).manual_seed(3);
        var x = rand(2, 3, 8, 8, generator: g);
        var xr = (x + 0.3 * randn(2, 3, 8, 8, generator: g)).requires_grad_(true);
        var value = loss.Loss(x, xr);

        var fx = teacher.Features(x); var fr = teacher.Features(xr.detach());
        var cos = (fx * fr).sum(-1) / (fx.norm(-1) * fr.norm(-1));                  // [2,4]
        double expected = ((2 - 2 * cos) / 6).mean().item<float>();
        Assert.Equal(expected, value.item<float>(), 5);
        value.backward();
        Assert.True(xr.grad is not null && xr.grad.abs().sum().item<float>() > 0);
        Assert.Equal(0f, loss.Loss(x, x.clone()).item<float>(), 6);
    }
}
