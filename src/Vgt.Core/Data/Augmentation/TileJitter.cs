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
    /// The encoder inputs and decoder targets of a batch, images [B, C, H, W]: each chosen image's tile at (ty, tx) shows
    /// the source pixels at (y − dy, x − dx), clamped to the image (edge pixels repeat); its target is the clean image, or
    /// with <see cref="AlignTarget"/> its Shapes World scene (<paramref name="scenes"/>[i], rendered at H; [−1, 1] images)
    /// redrawn with each object moved by its centre tile's shift. Images not chosen are their own input and target. H and
    /// W must be multiples of <see cref="Tile"/>. All draws come from <paramref name="rng"/>, so a step's jitter is fixed
    /// by its seed.
    /// </summary>
    public (Tensor Inputs, Tensor Targets) Apply(Tensor images, Random rng, IReadOnlyList<ShapesScene>? scenes = null)
    {
        if (images.dim() != 4) throw new ArgumentException($"images must be [B, C, H, W], got [{string.Join(", ", images.shape)}]", nameof(images));
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];
        if (h % Tile != 0 || w % Tile != 0)
            throw new ArgumentException($"image {h}×{w} is not a whole number of {Tile}-pixel tiles (data.tile_jitter.tile)", nameof(images));
        if (AlignTarget && scenes?.Count != b)
            throw new ArgumentException($"align_target needs one scene per image: {scenes?.Count ?? 0} scenes for {b} images", nameof(scenes));
        using var scope = NewDisposeScope();
        var inputs = new List<Tensor>((int)b);
        var targets = AlignTarget ? new List<Tensor>((int)b) : null;                     // without alignment the target is the batch itself
        for (int i = 0; i < b; i++)
        {
            if (rng.NextDouble() >= Probability) { inputs.Add(images[i]); targets?.Add(images[i]); continue; }
            var shifts = DrawShifts(h, w, rng);
            inputs.Add(Shift(images[i], shifts));
            targets?.Add(ShapesRenderer.ToTensor(Aligned(scenes![i], (int)h, shifts)));
        }
        var target = targets is null ? images.alias() : stack(targets);
        return (stack(inputs).MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope());
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
