using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Imaging;

/// <summary>What to do with the alpha channel of a decoded image.</summary>
public enum AlphaHandling
{
    /// <summary>Blend translucent pixels over a white background (what a viewer shows on a white page). Default.</summary>
    CompositeOverWhite,
    /// <summary>Ignore alpha and keep the stored (unpremultiplied) colour, like PIL's <c>convert("RGB")</c>.</summary>
    Drop,
}

/// <summary>
/// Conversions between SkiaSharp bitmaps and float tensors in [−1, 1], channels-first (CHW, RGB).
/// 8-bit value v maps to v/127.5 − 1; the inverse rounds 127.5·(x+1) and clamps to 0..255.
/// </summary>
public static class ImageTensor
{
    /// <summary>RGB bytes (HWC, row-major) → float tensor [3, H, W] in [−1, 1].</summary>
    public static Tensor FromRgbBytes(byte[] rgb, int width, int height)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException($"Expected {width * height * 3} RGB bytes for {width}×{height}, got {rgb.Length}.");
        using var scope = NewDisposeScope();
        var t = tensor(rgb, new long[] { height, width, 3 }, ScalarType.Byte)
            .to_type(ScalarType.Float32).permute(2, 0, 1).div(127.5).sub(1.0).contiguous();
        return t.MoveToOuterDisposeScope();
    }

    /// <summary>Float tensor [3, H, W] in [−1, 1] → RGB bytes (HWC).</summary>
    public static byte[] ToRgbBytes(Tensor image)
    {
        if (image.dim() != 3 || image.shape[0] != 3) throw new ArgumentException($"Expected an image tensor [3, H, W], got [{string.Join(", ", image.shape)}].");
        using var scope = NewDisposeScope();
        var bytes = image.detach().to(CPU).to_type(ScalarType.Float32).add(1.0).mul(127.5).round().clamp(0, 255)
            .to_type(ScalarType.Byte).permute(1, 2, 0).contiguous();
        return bytes.data<byte>().ToArray();
    }

    /// <summary>Bitmap (any colour type) → float tensor [3, H, W] in [−1, 1]. Alpha is dropped (colour channels kept as stored, unpremultiplied).</summary>
    public static Tensor FromBitmap(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height;
        using var rgba = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!bitmap.CopyTo(rgba, SKColorType.Rgba8888))
            using (var canvas = new SKCanvas(rgba)) canvas.DrawBitmap(bitmap, 0, 0);
        return FromRgba8888(rgba.GetPixelSpan(), w, h, AlphaHandling.Drop);
    }

    /// <summary>
    /// Unpremultiplied RGBA 8-bit pixels (row-major) → float tensor [3, H, W] in [−1, 1].
    /// Opaque pixels map exactly like <see cref="FromRgbBytes"/> (v/127.5 − 1); translucent ones are either
    /// composited over white (c·a + 255·(1 − a), a = alpha/255) or keep their colour (alpha dropped).
    /// </summary>
    public static Tensor FromRgba8888(ReadOnlySpan<byte> rgba, int width, int height, AlphaHandling alpha)
    {
        long n = (long)width * height;
        if (rgba.Length != n * 4) throw new ArgumentException($"Expected {n * 4} RGBA bytes for {width}×{height}, got {rgba.Length}.");
        var chw = new float[3 * n];
        for (long i = 0; i < n; i++)
        {
            var px = rgba.Slice((int)(4 * i), 4);
            int a = px[3];
            for (int c = 0; c < 3; c++)
            {
                float v = a == 255 || alpha == AlphaHandling.Drop
                    ? px[c]
                    : (px[c] * a + 255f * (255 - a)) / 255f; // over white, still on the 0..255 scale
                chw[c * n + i] = v / 127.5f - 1f;
            }
        }
        return tensor(chw, new long[] { 3, height, width });
    }

    /// <summary>
    /// Unpremultiplied RGBA half-float pixels in [0, 1] (row-major; what SkiaSharp decodes 16-bit PNGs to) →
    /// [3, H, W] in [−1, 1]: 2·v − 1, alpha handled as in <see cref="FromRgba8888"/>.
    /// </summary>
    public static Tensor FromRgbaF16(ReadOnlySpan<Half> rgba, int width, int height, AlphaHandling alpha)
    {
        long n = (long)width * height;
        if (rgba.Length != n * 4) throw new ArgumentException($"Expected {n * 4} RGBA half values for {width}×{height}, got {rgba.Length}.");
        var chw = new float[3 * n];
        for (long i = 0; i < n; i++)
        {
            var px = rgba.Slice((int)(4 * i), 4);
            float a = Math.Clamp((float)px[3], 0f, 1f);
            for (int c = 0; c < 3; c++)
            {
                float v = Math.Clamp((float)px[c], 0f, 1f);
                if (alpha == AlphaHandling.CompositeOverWhite && a < 1f) v = v * a + (1f - a);
                chw[c * n + i] = 2f * v - 1f;
            }
        }
        return tensor(chw, new long[] { 3, height, width });
    }

    /// <summary>Float tensor [3, H, W] in [−1, 1] → opaque RGBA bitmap.</summary>
    public static SKBitmap ToBitmap(Tensor image)
    {
        var rgb = ToRgbBytes(image);
        int h = (int)image.shape[1], w = (int)image.shape[2];
        var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var dst = bmp.GetPixelSpan();
        for (int i = 0, j = 0; i < w * h; i++, j += 3)
        {
            dst[4 * i] = rgb[j];
            dst[4 * i + 1] = rgb[j + 1];
            dst[4 * i + 2] = rgb[j + 2];
            dst[4 * i + 3] = 255;
        }
        return bmp;
    }
}
