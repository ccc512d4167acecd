using SkiaSharp;

namespace Vgt.Evaluation;

/// <summary>Image degradations used to measure how robust a judge is: JPEG re-encoding, Gaussian blur and Gaussian noise.</summary>
public static class ImagePerturbations
{
    /// <summary>Encodes as JPEG at <paramref name="quality"/> (SkiaSharp's encoder) and decodes again.</summary>
    public static RgbImage Jpeg(RgbImage image, int quality) =>
        RgbImageFiles.Decode(RgbImageFiles.Encode(image, SKEncodedImageFormat.Jpeg, quality), $"jpeg q{quality}");

    /// <summary>Separable Gaussian blur with standard deviation <paramref name="sigma"/> pixels, kernel radius ⌈3σ⌉, edges replicated, rounded to 8 bits.</summary>
    public static RgbImage GaussianBlur(RgbImage image, double sigma)
    {
        if (sigma <= 0) throw new ArgumentException($"Blur sigma must be positive, got {sigma}.");
        int radius = (int)Math.Ceiling(3 * sigma);
        var kernel = new double[2 * radius + 1];
        for (int i = -radius; i <= radius; i++) kernel[i + radius] = Math.Exp(-i * i / (2 * sigma * sigma));
        double sum = kernel.Sum();
        for (int i = 0; i < kernel.Length; i++) kernel[i] /= sum;

        int w = image.Width, h = image.Height;
        var src = image.Pixels;
        var tmp = new double[src.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    double acc = 0;
                    for (int i = -radius; i <= radius; i++) acc += kernel[i + radius] * src[3 * (y * w + Math.Clamp(x + i, 0, w - 1)) + c];
                    tmp[3 * (y * w + x) + c] = acc;
                }
        var dst = new byte[src.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    double acc = 0;
                    for (int i = -radius; i <= radius; i++) acc += kernel[i + radius] * tmp[3 * (Math.Clamp(y + i, 0, h - 1) * w + x) + c];
                    dst[3 * (y * w + x) + c] = ToByte(acc);
                }
        return new RgbImage(w, h, dst);
    }

    /// <summary>Adds independent Gaussian noise of standard deviation <paramref name="sigma255"/> (in 0..255 units) to every channel, rounded and clamped.</summary>
    public static RgbImage GaussianNoise(RgbImage image, double sigma255, Random rng)
    {
        var src = image.Pixels;
        var dst = new byte[src.Length];
        for (int i = 0; i < src.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble(); // Box–Muller, u1 in (0, 1]
            double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            dst[i] = ToByte(src[i] + sigma255 * z);
        }
        return new RgbImage(image.Width, image.Height, dst);
    }

    static byte ToByte(double v) => (byte)Math.Clamp(Math.Round(v, MidpointRounding.AwayFromZero), 0, 255);
}
