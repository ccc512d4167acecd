using Vgt.Config;
using Vgt.Data.Augmentation;
using Vgt.Data.ShapesWorld;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtAe;

/// <summary>The tile-jitter augmentation: every tile is its source shifted by at most max_shift, drawn from the seed.</summary>
public class TileJitterTests
{
    [Fact]
    public void EveryTileIsTheImageShiftedByItsOwnSmallOffset()
    {
        var jitter = new TileJitter { Tile = 8, MaxShift = 1, Probability = 1 };
        using var images = arange(2 * 3 * 16 * 24, dtype: float32).reshape(2, 3, 16, 24);
        var (out1, clean) = jitter.Apply(images, new Random(4));
        using var _ = out1; using var __ = clean;
        var (out2, _) = jitter.Apply(images, new Random(4));
        Assert.True(out1.equal(out2).all().item<bool>());                                     // same seed, same jitter
        var shifts = new HashSet<(int, int)>();
        for (int b = 0; b < 2; b++)
            for (int ty = 0; ty < 16; ty += 8)
                for (int tx = 0; tx < 24; tx += 8)
                {
                    var tile = out1[b, .., ty..(ty + 8), tx..(tx + 8)];
                    var match = Shifts().Where(s => tile.equal(Shifted(images[b], ty, tx, s.Dy, s.Dx)).all().item<bool>()).ToList();
                    Assert.Single(match);                                                 // exactly one offset in {−1, 0, 1}² explains it
                    shifts.Add(match[0]);
                }
        Assert.True(shifts.Count >= 3, $"only {shifts.Count} distinct offsets over 12 tiles");

        // probability: about that fraction of the images change
        var half = jitter with { Probability = 0.5 };
        using var many = arange(40 * 1 * 8 * 8, dtype: float32).reshape(40, 1, 8, 8);
        var (jittered, _) = half.Apply(many, new Random(1));
        int changed = Enumerable.Range(0, 40).Count(i => !jittered[i].equal(many[i]).all().item<bool>());
        Assert.InRange(changed, 10, 30);
    }

    [Fact]
    public void AlignedTargetsRedrawEachObjectWhereItsCentreTileMovedIt()
    {
        var jitter = new TileJitter { Tile = 16, MaxShift = 1, Probability = 1, AlignTarget = true };
        var scenes = Enumerable.Range(0, 12).Select(i => ShapesSceneSampler.ForSceneSeed(i)).Where(s => s.Objects.Count == 1).Take(4).ToList();
        using var images = stack(scenes.Select(s => ShapesRenderer.ToTensor(ShapesRenderer.Render(s, 64))).ToArray());
        var (inputs, targets) = jitter.Apply(images, new Random(3), scenes);
        using var _ = inputs; using var __ = targets;
        int moved = 0;
        for (int i = 0; i < scenes.Count; i++)
        {
            var o = scenes[i].Objects[0];
            int ty = (int)o.CenterY / 16 * 16, tx = (int)o.CenterX / 16 * 16;
            // the centre tile of the input (the object's part, shifted) is the redrawn object's centre tile
            using var a = inputs[i, .., ty..(ty + 16), tx..(tx + 16)];
            using var b = targets[i, .., ty..(ty + 16), tx..(tx + 16)];
            Assert.True((a - b).abs().max().item<float>() < 1e-5f, $"scene {i}: centre tiles differ");
            if (!targets[i].equal(images[i]).all().item<bool>()) moved++;
        }
        Assert.True(moved > 0, "no object moved");
    }

    [Fact]
    public void TheGenerationDecoderConfigTunesTheDecoderOnlyWithAlignedTargets()
    {
        var config = ConfigJson.Load<Vgt.Training.AeTrainConfig>(Vgt.Tests.Vlm.VlmTrainingTests.RepoFile("configs", "shapes-vgt-decoder.json"));
        config.Validate();
        Assert.True(config.TrainDecoderOnly);
        Assert.Equal(new TileJitter { Tile = 16, MaxShift = 1, Probability = 0.5, AlignTarget = true }, config.Data.TileJitter);
    }

    [Fact]
    public void BadSettingsAndSizesAreRefusedWithTheirName()
    {
        using var images = zeros(1, 3, 20, 20);
        var e = Assert.Throws<ArgumentException>(() => new TileJitter { Tile = 16 }.Apply(images, new Random(0)).Inputs);
        Assert.Contains("16-pixel tiles", e.Message);
        Assert.Contains("max_shift", Assert.Throws<ConfigValidationException>(() => new TileJitter { Tile = 4, MaxShift = 4 }.Validate()).Message);
        Assert.Contains("probability", Assert.Throws<ConfigValidationException>(() => new TileJitter { Probability = 0 }.Validate()).Message);
        var data = new Vgt.Training.AeDataConfig { ImageSize = 24, TileJitter = new TileJitter { Tile = 16 } };
        Assert.Contains("tile_jitter.tile", Assert.Throws<ConfigValidationException>(data.Validate).Message);
    }

    private static IEnumerable<(int Dy, int Dx)> Shifts() =>
        from dy in new[] { -1, 0, 1 } from dx in new[] { -1, 0, 1 } select (dy, dx);

    /// <summary>The 8 × 8 tile at (ty, tx) of image [C, H, W] taken from the source pixels at (y − dy, x − dx), clamped.</summary>
    private static Tensor Shifted(Tensor image, int ty, int tx, int dy, int dx)
    {
        long h = image.shape[1], w = image.shape[2];
        var rows = tensor(Enumerable.Range(ty, 8).Select(y => Math.Clamp(y - dy, 0, h - 1)).ToArray());
        var cols = tensor(Enumerable.Range(tx, 8).Select(x => Math.Clamp(x - dx, 0, w - 1)).ToArray());
        return image.index_select(1, rows).index_select(2, cols);
    }
}
