using TorchSharp;
using Vgt.Losses;
using static TorchSharp.torch;

namespace Vgt.Tests.Losses;

public class GanLossTests
{
    [Fact]
    public void HingeGeneratorAndLeCamMatchTheReferenceOverThreeSteps()
    {
        var f = LossFixtures.Load("gan");
        var emaReal = zeros(1);
        var emaFake = zeros(1);
        for (int s = 0; s < 3; s++)
        {
            var real = f["real"][s];
            var fake = f["fake"][s];
            Assert.Equal(f["hinge"][s].item<float>(), GanLosses.HingeDiscriminator(real, fake).item<float>(), 6);
            Assert.Equal(f["gen"][s].item<float>(), GanLosses.Generator(fake).item<float>(), 6);
            var lecam = 0.001 * LeCam.Loss(real.mean(), fake.mean(), emaReal, emaFake);   // old EMAs
            Assert.Equal(f["lecam"][s].item<float>(), lecam.item<float>(), 8);
            LeCam.UpdateEma(emaReal, real.mean(), 0.999);
            LeCam.UpdateEma(emaFake, fake.mean(), 0.999);
            Assert.Equal(f["ema_real"][s].item<float>(), emaReal.item<float>(), 8);
            Assert.Equal(f["ema_fake"][s].item<float>(), emaFake.item<float>(), 8);
        }
        Assert.True(f["lecam"][0].item<float>() > 0);   // the fixture exercises a non-zero LeCam term
    }

    [Fact]
    public void HingeIsZeroForConfidentCorrectLogits()
    {
        Assert.Equal(0f, GanLosses.HingeDiscriminator(full(2, 1, 2, 2, 1.5f), full(2, 1, 2, 2, -2f)).item<float>());
        Assert.Equal(1f, GanLosses.HingeDiscriminator(zeros(2, 1, 2, 2), zeros(2, 1, 2, 2)).item<float>());
    }
}
