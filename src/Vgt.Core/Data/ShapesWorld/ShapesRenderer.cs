using SkiaSharp;
using TorchSharp;
using Vgt.Evaluation;
using Vgt.Imaging;

namespace Vgt.Data.ShapesWorld;

/// <summary>
/// Draws a <see cref="ShapesScene"/> with SkiaSharp (spec §1, §3): uniform background, each object one flat colour,
/// filled and anti-aliased inside its s × s box. Other sizes than 64 scale every length by size/64.
/// </summary>
public static class ShapesRenderer
{
    public static RgbImage Render(ShapesScene scene, int size = ShapesVocabulary.CanvasSize)
    {
        if (size < 16 || size > 4096) throw new ArgumentException($"Image size must be within 16..4096 pixels, got {size}.");
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            var bg = scene.Background;
            canvas.Clear(new SKColor(bg.R, bg.G, bg.B));
            float k = size / (float)ShapesVocabulary.CanvasSize;
            using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
            foreach (var o in scene.Objects)
            {
                paint.Color = new SKColor(o.Fill.R, o.Fill.G, o.Fill.B);
                float x0 = o.X0 * k, y0 = o.Y0 * k, s = o.Side * k;
                switch (o.Shape)
                {
                    case "circle":
                        canvas.DrawCircle(x0 + s / 2, y0 + s / 2, s / 2, paint);
                        break;
                    case "square":
                        canvas.DrawRect(x0, y0, s, s, paint);
                        break;
                    case "triangle":
                        DrawPolygon(canvas, paint, (x0 + s / 2, y0), (x0 + s, y0 + s), (x0, y0 + s));
                        break;
                    case "diamond":
                        DrawPolygon(canvas, paint, (x0 + s / 2, y0), (x0 + s, y0 + s / 2), (x0 + s / 2, y0 + s), (x0, y0 + s / 2));
                        break;
                    default:
                        throw new ArgumentException($"Unknown shape '{o.Shape}'.");
                }
            }
        }
        return RgbImageFiles.FromBitmap(bitmap);
    }

    /// <summary>Image → float tensor [3, H, W] in [−1, 1] (<see cref="ImageTensor"/>'s convention).</summary>
    public static torch.Tensor ToTensor(RgbImage image) => ImageTensor.FromRgbBytes(image.Pixels, image.Width, image.Height);

    static void DrawPolygon(SKCanvas canvas, SKPaint paint, params (float X, float Y)[] points)
    {
        using var path = new SKPath();
        path.MoveTo(points[0].X, points[0].Y);
        for (int i = 1; i < points.Length; i++) path.LineTo(points[i].X, points[i].Y);
        path.Close();
        canvas.DrawPath(path, paint);
    }
}
