using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Imaging;

/// <summary>Resampling filter for <see cref="ImageTransforms.Resize"/>.</summary>
public enum ResizeFilter
{
    /// <summary>Bilinear (PyTorch <c>mode="bilinear"</c>).</summary>
    Bilinear,
    /// <summary>Bicubic (PyTorch <c>mode="bicubic"</c>: a = −0.75; with antialias PIL's a = −0.5).</summary>
    Bicubic,
}

/// <summary>How <see cref="ImageTransforms.SquareCrop"/> places its square.</summary>
public enum SquareCropMode
{
    Center,
    Random,
}

/// <summary>
/// Geometric transforms of image tensors [C, H, W] or batches [B, C, H, W] (any float values; nothing is clamped).
/// Resizing is PyTorch's <c>F.interpolate(..., align_corners=False)</c> (TorchSharp 0.107 passes <c>antialias</c> through
/// to libtorch). With <c>antialias</c> the filter support is widened by the downscale factor (PIL-style); bilinear
/// upscaling is then unchanged, while antialiased bicubic also switches to PIL's cubic (a = −0.5) when upscaling.
/// </summary>
public static class ImageTransforms
{
    /// <summary>Resizes to exactly <paramref name="height"/> × <paramref name="width"/>.</summary>
    public static Tensor Resize(Tensor image, int height, int width, ResizeFilter filter = ResizeFilter.Bilinear, bool antialias = false)
    {
        CheckImage(image);
        if (height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(height), $"Resize target {height}×{width} must be positive.");
        bool batched = image.dim() == 4;
        using var scope = NewDisposeScope();
        var x = batched ? image : image.unsqueeze(0);                 // [B, C, H, W]
        if (x.dtype != ScalarType.Float32 && x.dtype != ScalarType.Float64) x = x.to_type(ScalarType.Float32);
        var mode = filter == ResizeFilter.Bicubic ? InterpolationMode.Bicubic : InterpolationMode.Bilinear;
        var y = nn.functional.interpolate(x, size: [height, width], mode: mode, align_corners: false, antialias: antialias);
        return (batched ? y : y.squeeze(0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Scales so that the shorter side becomes <paramref name="size"/>; the longer side becomes
    /// ⌊size · long / short⌋ (torchvision's rule), so the aspect ratio is kept to within one pixel.
    /// </summary>
    public static Tensor ResizeShorterSide(Tensor image, int size, ResizeFilter filter = ResizeFilter.Bilinear, bool antialias = true)
    {
        CheckImage(image);
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "Size must be positive.");
        long h = image.shape[^2], w = image.shape[^1];
        var (newH, newW) = h <= w ? (size, (int)(size * w / h)) : ((int)(size * h / w), size);
        return Resize(image, newH, newW, filter, antialias);
    }

    /// <summary>The centred <paramref name="height"/> × <paramref name="width"/> window; offsets round((H − h)/2), half to even (torchvision).</summary>
    public static Tensor CenterCrop(Tensor image, int height, int width)
    {
        CheckImage(image);
        long h = image.shape[^2], w = image.shape[^1];
        CheckCrop(h, w, height, width);
        int top = (int)Math.Round((h - height) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((w - width) / 2.0, MidpointRounding.ToEven);
        return Crop(image, top, left, height, width);
    }

    /// <summary>The window at (<paramref name="top"/>, <paramref name="left"/>) of the given size, as a contiguous copy.</summary>
    public static Tensor Crop(Tensor image, int top, int left, int height, int width)
    {
        CheckImage(image);
        long h = image.shape[^2], w = image.shape[^1];
        if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > h || left + width > w)
            throw new ArgumentOutOfRangeException(nameof(top), $"Crop {height}×{width} at ({top}, {left}) does not fit in a {h}×{w} image.");
        using var scope = NewDisposeScope();
        return image.narrow(-2, top, height).narrow(-1, left, width).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The largest square (side = min(H, W)): centred, or at a uniformly random offset along the longer side drawn
    /// from <paramref name="random"/> (one <c>Next</c> call per crop; required for <see cref="SquareCropMode.Random"/>).
    /// </summary>
    public static Tensor SquareCrop(Tensor image, SquareCropMode mode = SquareCropMode.Center, Random? random = null)
    {
        CheckImage(image);
        long h = image.shape[^2], w = image.shape[^1];
        int side = (int)Math.Min(h, w);
        if (mode == SquareCropMode.Center) return CenterCrop(image, side, side);
        if (random is null) throw new ArgumentNullException(nameof(random), "A random square crop needs a Random (e.g. seed.DotNetRandom(\"crop\")).");
        int offset = random.Next(0, (int)(Math.Max(h, w) - side) + 1);
        return h > w ? Crop(image, offset, 0, side, side) : Crop(image, 0, offset, side, side);
    }

    /// <summary>Resize the shorter side to <paramref name="size"/>, then centre-crop <paramref name="size"/> × <paramref name="size"/>.</summary>
    public static Tensor ResizeShorterSideAndCenterCrop(Tensor image, int size, ResizeFilter filter = ResizeFilter.Bicubic, bool antialias = true)
    {
        using var resized = ResizeShorterSide(image, size, filter, antialias);
        return CenterCrop(resized, size, size);
    }

    private static void CheckImage(Tensor image)
    {
        if (image.dim() is not (3 or 4) || image.shape[^1] < 1 || image.shape[^2] < 1)
            throw new ArgumentException($"Expected an image tensor [C, H, W] or [B, C, H, W], got [{string.Join(", ", image.shape)}].");
    }

    private static void CheckCrop(long h, long w, int height, int width)
    {
        if (height < 1 || width < 1 || height > h || width > w)
            throw new ArgumentOutOfRangeException(nameof(height), $"Crop {height}×{width} does not fit in a {h}×{w} image.");
    }
}
