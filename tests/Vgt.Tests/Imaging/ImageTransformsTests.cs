using Vgt.Imaging;
using static TorchSharp.torch;
using static Vgt.Tests.Imaging.TestImages;

namespace Vgt.Tests.Imaging;

public class ImageTransformsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>max |ours − reference| / max |reference|.</summary>
    private static double RelErr(Tensor ours, Tensor reference) =>
        (ours - reference).abs().max().item<float>() / (double)reference.abs().max().item<float>();

    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var mode in new[] { "bilinear", "bicubic" })
            foreach (var aa in new[] { 0, 1 })
                foreach (var (h, w) in new[] { (11, 14), (40, 57), (17, 45), (7, 8) })
                    data.Add($"{mode}_aa{aa}", h, w);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResizeMatchesPyTorchInterpolate(string modeAndAa, int height, int width)
    {
        using var scope = NewDisposeScope();
        var fx = Fixture("resize.safetensors");
        var x = fx["x"];                                                  // [1, 3, 23, 31]
        var expected = fx[$"{modeAndAa}_{height}x{width}"];               // [1, 3, h, w]
        var filter = modeAndAa.StartsWith("bicubic") ? ResizeFilter.Bicubic : ResizeFilter.Bilinear;
        bool aa = modeAndAa.EndsWith("aa1");

        var batched = ImageTransforms.Resize(x, height, width, filter, aa);
        Assert.Equal(expected.shape, batched.shape);
        double err = RelErr(batched, expected);
        output.WriteLine($"{modeAndAa} {height}x{width}: rel err {err:E2}");
        Assert.True(err <= 1e-4, $"{modeAndAa} {height}x{width}: rel err {err:E2}");

        var single = ImageTransforms.Resize(x[0], height, width, filter, aa); // [3, h, w]
        Assert.Equal(new long[] { 3, height, width }, single.shape);
        Assert.True(RelErr(single, expected[0]) <= 1e-4);
    }

    [Fact]
    public void AntialiasChangesDownscalingButNotBilinearUpscaling()
    {
        using var scope = NewDisposeScope();
        var fx = Fixture("resize.safetensors");
        // Downscaling: the antialiased filter averages over a wider window, so results differ clearly.
        Assert.True((fx["bilinear_aa0_11x14"] - fx["bilinear_aa1_11x14"]).abs().max().item<float>() > 0.05f);
        // Bilinear upscaling: the support is not widened, so both agree.
        var x = fx["x"];
        var up = ImageTransforms.Resize(x, 40, 57, ResizeFilter.Bilinear, antialias: true);
        Assert.True(RelErr(up, fx["bilinear_aa0_40x57"]) <= 1e-4);
    }

    [Fact]
    public void ResizeToTheSameSizeIsIdentity()
    {
        using var scope = NewDisposeScope();
        var x = rand(3, 9, 13);
        foreach (var filter in new[] { ResizeFilter.Bilinear, ResizeFilter.Bicubic })
            foreach (var aa in new[] { false, true })
                Assert.True(ImageTransforms.Resize(x, 9, 13, filter, aa).allclose(x, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void CenterCropTakesTheMiddleWithTorchvisionRounding()
    {
        using var scope = NewDisposeScope();
        var x = arange(2 * 5 * 7, dtype: ScalarType.Float32).reshape(2, 5, 7); // value = c·35 + y·7 + x
        var c = ImageTransforms.CenterCrop(x, 2, 4);
        Assert.Equal(new long[] { 2, 2, 4 }, c.shape);
        // top = round((5 − 2)/2) = round(1.5) = 2 (half to even), left = round((7 − 4)/2) = 2
        Assert.Equal(2 * 7 + 2, c[0, 0, 0].item<float>());
        Assert.Equal(35 + 3 * 7 + 5, c[1, 1, 3].item<float>());
        var odd = ImageTransforms.CenterCrop(x, 3, 3);                           // top 1, left 2
        Assert.Equal(1 * 7 + 2, odd[0, 0, 0].item<float>());
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageTransforms.CenterCrop(x, 6, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageTransforms.Crop(x, 4, 0, 2, 2));
    }

    [Fact]
    public void SquareCropCentreAndSeededRandom()
    {
        using var scope = NewDisposeScope();
        var wide = arange(4 * 10, dtype: ScalarType.Float32).reshape(1, 4, 10);  // value = y·10 + x
        var centre = ImageTransforms.SquareCrop(wide);
        Assert.Equal(new long[] { 1, 4, 4 }, centre.shape);
        Assert.Equal(3f, centre[0, 0, 0].item<float>());                          // left = (10 − 4)/2 = 3

        // Random offsets are drawn with one Next(0, 7) call on the given Random: same seed, same crop.
        var expectedOffsets = Enumerable.Range(0, 20).Select(_ => 0).ToArray();
        var reference = new Random(123);
        for (int i = 0; i < 20; i++) expectedOffsets[i] = reference.Next(0, 7);
        var rng = new Random(123);
        var seen = new HashSet<int>();
        for (int i = 0; i < 20; i++)
        {
            var crop = ImageTransforms.SquareCrop(wide, SquareCropMode.Random, rng);
            int left = (int)crop[0, 0, 0].item<float>();
            Assert.Equal(expectedOffsets[i], left);
            Assert.Equal(left + 3 + 30, (int)crop[0, 3, 3].item<float>());
            seen.Add(left);
        }
        Assert.True(seen.Count >= 4, "random crops should move around");

        var tall = arange(9 * 2, dtype: ScalarType.Float32).reshape(1, 9, 2);
        var t = ImageTransforms.SquareCrop(tall, SquareCropMode.Random, new Random(5));
        Assert.Equal(new long[] { 1, 2, 2 }, t.shape);
        Assert.Equal(new Random(5).Next(0, 8) * 2, (int)t[0, 0, 0].item<float>());

        Assert.Throws<ArgumentNullException>(() => ImageTransforms.SquareCrop(wide, SquareCropMode.Random));
    }

    [Fact]
    public void ResizeShorterSideKeepsAspectThenCentreCrops()
    {
        using var scope = NewDisposeScope();
        var x = rand(3, 23, 31);
        Assert.Equal(new long[] { 3, 16, 21 }, ImageTransforms.ResizeShorterSide(x, 16).shape);  // ⌊16·31/23⌋ = 21
        Assert.Equal(new long[] { 3, 21, 16 }, ImageTransforms.ResizeShorterSide(x.transpose(1, 2), 16).shape);
        Assert.Equal(new long[] { 2, 3, 46, 62 }, ImageTransforms.ResizeShorterSide(rand(2, 3, 23, 31), 46).shape);

        var square = ImageTransforms.ResizeShorterSideAndCenterCrop(x, 16, ResizeFilter.Bilinear, antialias: false);
        Assert.Equal(new long[] { 3, 16, 16 }, square.shape);
        var manual = ImageTransforms.Resize(x, 16, 21, ResizeFilter.Bilinear, false).narrow(2, 2, 16);  // left = round(5/2) = 2
        Assert.True(square.allclose(manual, rtol: 0, atol: 0));
    }

    [Fact]
    public void BadShapesAreRefused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => ImageTransforms.Resize(rand(5, 5), 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageTransforms.Resize(rand(3, 5, 5), 0, 2));
    }
}
