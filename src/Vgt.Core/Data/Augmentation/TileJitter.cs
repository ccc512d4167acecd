using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Evaluation;
using static TorchSharp.torch;

namespace Vgt.Data.Augmentation;

/// <summary>
/// Shifts every <see cref="Tile"/> × <see cref="Tile"/> tile of an image by its own small random offset, so that edges
/// crossing tile borders no longer line up. A generator that samples one latent token per tile makes exactly this
/// error: the parts of a square drawn by two neighbouring tokens disagree by a pixel, the square's fill drops below the
/// judge's 0.92, and it is read as a circle. An AE decoder trained to map latents of jittered images to the clean image
/// (<c>data.tile_jitter</c> with <c>train_decoder_only</c>) learns to put such parts back in line.
/// </summary>
public sealed record TileJitter : IValidatable
{
    /// <summary>Tile side in pixels: the generator's token, decoder stride × latent patch size (8 × 2 = 16 for shapes-vgt).</summary>
    public int Tile { get; init; } = 16;

    /// <summary>Largest shift in pixels on each axis; each tile's (dy, dx) is uniform on {−m … m}².</summary>
    public int MaxShift { get; init; } = 1;

    /// <summary>Fraction of the images of a batch that are jittered; the others stay clean, so plain reconstruction is kept.</summary>
    public double Probability { get; init; } = 0.5;

    /// <summary>
    /// Redraw each object of the target at the offset of the tile that holds its box centre, instead of keeping the
    /// clean image. The clean target leaves the decoder guessing which of the shifted parts is in the right place, so
    /// under L2 it blurs the edges (reconstruction judge agreement fell from 0.996 to 0.80); with this target every
    /// jittered input has one crisp answer that the decoder can read off the centre part.
    /// </summary>
    public bool AlignTarget { get; init; }

    public void Validate()
    {
        ConfigValidationException.Require(Tile >= 2, "data.tile_jitter.tile", $"must be >= 2 pixels, got {Tile}");
        ConfigValidationException.Require(MaxShift >= 1 && MaxShift < Tile, "data.tile_jitter.max_shift", $"must be in [1, tile), got {MaxShift}");
        ConfigValidationException.Require(Probability is > 0 and <= 1, "data.tile_jitter.probability", $"must be in (0, 1], got {Probability}");
    }

    /// <summary>
    /// images [B, C, H, W] → [B, C, H, W]: each chosen image's tile at (ty, tx) shows the source pixels at (y − dy, x − dx),
    /// clamped to the image (edge pixels repeat). H and W must be multiples of <see cref="Tile"/>. All draws come from
    /// <paramref name="rng"/>, so a step's jitter is fixed by its seed. Any images; for Shapes World scenes the trainer
    /// uses <see cref="ApplyToScenes"/>, which makes the same draws.
    /// </summary>
    public Tensor Apply(Tensor images, Random rng)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>((int)images.shape[0]);
        for (long i = 0; i < images.shape[0]; i++)
            rows.Add(rng.NextDouble() < Probability ? Shift(images[i], DrawShifts(images.shape[2], images.shape[3], rng)) : images[i]);
        return stack(rows).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The encoder inputs and decoder targets of a batch of Shapes World scenes, images [B, 3, H, W] in [−1, 1]
    /// (<paramref name="images"/>[i] is <paramref name="scenes"/>[i] rendered at H): chosen images are jittered as by
    /// <see cref="Apply"/>; with <see cref="AlignTarget"/> their target is the scene redrawn with each object moved by
    /// its centre tile's shift, otherwise the clean image. Images not chosen are their own input and target.
    /// </summary>
    public (Tensor Inputs, Tensor Targets) ApplyToScenes(Tensor images, IReadOnlyList<ShapesScene> scenes, Random rng)
    {
        CheckImages(images);
        if (scenes.Count != images.shape[0]) throw new ArgumentException($"{scenes.Count} scenes for {images.shape[0]} images", nameof(scenes));
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        var inputs = new List<Tensor>(scenes.Count);
        var targets = new List<Tensor>(scenes.Count);
        for (int i = 0; i < scenes.Count; i++)
        {
            if (rng.NextDouble() >= Probability) { inputs.Add(images[i]); targets.Add(images[i]); continue; }
            var shifts = DrawShifts(h, w, rng);
            inputs.Add(Shift(images[i], shifts));
            targets.Add(AlignTarget ? ShapesRenderer.ToTensor(Aligned(scenes[i], (int)h, shifts)) : images[i]);
        }
        return (stack(inputs).MoveToOuterDisposeScope(), stack(targets).MoveToOuterDisposeScope());
    }

    /// <summary>The scene drawn at <paramref name="size"/> px with every object moved by the shift of the tile holding its box centre.</summary>
    private RgbImage Aligned(ShapesScene scene, int size, (int Dy, int Dx)[,] shifts)
    {
        double pxPerUnit = size / (double)ShapesVocabulary.CanvasSize;
        return ShapesRenderer.Render(size, scene.Background, scene.Objects.Select(o =>
        {
            int ty = Math.Clamp((int)(o.CenterY * pxPerUnit) / Tile, 0, shifts.GetLength(0) - 1);
            int tx = Math.Clamp((int)(o.CenterX * pxPerUnit) / Tile, 0, shifts.GetLength(1) - 1);
            var (dy, dx) = shifts[ty, tx];
            return (o.Shape, (float)(o.X0 + dx / pxPerUnit), (float)(o.Y0 + dy / pxPerUnit), (float)o.Side, o.Fill);
        }));
    }

    private void CheckImages(Tensor images)
    {
        if (images.dim() != 4) throw new ArgumentException($"images must be [B, C, H, W], got [{string.Join(", ", images.shape)}]", nameof(images));
        if (images.shape[2] % Tile != 0 || images.shape[3] % Tile != 0)
            throw new ArgumentException($"image {images.shape[2]}×{images.shape[3]} is not a whole number of {Tile}-pixel tiles (data.tile_jitter.tile)", nameof(images));
    }

    /// <summary>One (dy, dx) per tile, in pixels.</summary>
    private (int Dy, int Dx)[,] DrawShifts(long h, long w, Random rng)
    {
        var shifts = new (int, int)[h / Tile, w / Tile];
        for (int ty = 0; ty < shifts.GetLength(0); ty++)
            for (int tx = 0; tx < shifts.GetLength(1); tx++)
                shifts[ty, tx] = (rng.Next(-MaxShift, MaxShift + 1), rng.Next(-MaxShift, MaxShift + 1));
        return shifts;
    }

    /// <summary>image [C, H, W] → [C, H, W]: every tile copied from (y − dy, x − dx) of its shift, clamped to the image.</summary>
    private Tensor Shift(Tensor image, (int Dy, int Dx)[,] shifts)
    {
        long h = image.shape[1], w = image.shape[2];
        var source = new long[h * w];                                                 // flat source pixel of each target pixel
        for (long y = 0; y < h; y++)
            for (long x = 0; x < w; x++)
            {
                var (dy, dx) = shifts[y / Tile, x / Tile];
                source[y * w + x] = Math.Clamp(y - dy, 0, h - 1) * w + Math.Clamp(x - dx, 0, w - 1);
            }
        return image.reshape(image.shape[0], h * w).index_select(1, tensor(source)).reshape(image.shape);   // [C, H·W] gathered
    }
}
