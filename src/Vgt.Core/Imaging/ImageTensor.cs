using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Imaging;

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

    /// <summary>Bitmap (any colour type) → float tensor [3, H, W] in [−1, 1]. Alpha is dropped (composited on nothing).</summary>
    public static Tensor FromBitmap(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height;
        using var rgba = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!bitmap.CopyTo(rgba, SKColorType.Rgba8888))
            using (var canvas = new SKCanvas(rgba)) canvas.DrawBitmap(bitmap, 0, 0);
        var src = rgba.GetPixelSpan();
        var rgb = new byte[w * h * 3];
        for (int i = 0, j = 0; i < w * h; i++, j += 3)
        {
            rgb[j] = src[4 * i];
            rgb[j + 1] = src[4 * i + 1];
            rgb[j + 2] = src[4 * i + 2];
        }
        return FromRgbBytes(rgb, w, h);
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
