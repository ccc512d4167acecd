using Vgt.Config;
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

    public void Validate()
    {
        ConfigValidationException.Require(Tile >= 2, "data.tile_jitter.tile", $"must be >= 2 pixels, got {Tile}");
        ConfigValidationException.Require(MaxShift >= 1 && MaxShift < Tile, "data.tile_jitter.max_shift", $"must be in [1, tile), got {MaxShift}");
        ConfigValidationException.Require(Probability is > 0 and <= 1, "data.tile_jitter.probability", $"must be in (0, 1], got {Probability}");
    }

    /// <summary>
    /// images [B, C, H, W] → [B, C, H, W]: each chosen image's tile at (ty, tx) shows the source pixels at (y − dy, x − dx),
    /// clamped to the image (edge pixels repeat). H and W must be multiples of <see cref="Tile"/>. All draws come from
    /// <paramref name="rng"/>, so a step's jitter is fixed by its seed.
    /// </summary>
    public Tensor Apply(Tensor images, Random rng)
    {
        if (images.dim() != 4) throw new ArgumentException($"images must be [B, C, H, W], got [{string.Join(", ", images.shape)}]", nameof(images));
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];
        if (h % Tile != 0 || w % Tile != 0)
            throw new ArgumentException($"image {h}×{w} is not a whole number of {Tile}-pixel tiles (data.tile_jitter.tile)", nameof(images));
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>((int)b);
        for (long i = 0; i < b; i++)
        {
            var image = images[i];                                                    // [C, H, W]
            if (rng.NextDouble() >= Probability) { rows.Add(image); continue; }
            var ySource = new long[h * w];                                            // flat source index per target pixel
            for (long ty = 0; ty < h; ty += Tile)
                for (long tx = 0; tx < w; tx += Tile)
                {
                    int dy = rng.Next(-MaxShift, MaxShift + 1), dx = rng.Next(-MaxShift, MaxShift + 1);
                    for (long y = ty; y < ty + Tile; y++)
                        for (long x = tx; x < tx + Tile; x++)
                            ySource[y * w + x] = Math.Clamp(y - dy, 0, h - 1) * w + Math.Clamp(x - dx, 0, w - 1);
                }
            var flat = image.reshape(image.shape[0], h * w);                          // [C, H·W]
            rows.Add(flat.index_select(1, tensor(ySource)).reshape(image.shape));
        }
        return stack(rows).MoveToOuterDisposeScope();
    }
}
