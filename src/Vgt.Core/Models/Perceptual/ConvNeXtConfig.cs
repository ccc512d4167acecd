using Vgt.Config;

namespace Vgt.Models.Perceptual;

/// <summary>
/// Shape of a torchvision-style ConvNeXt classifier. <see cref="Small"/> is torchvision's
/// <c>convnext_small</c> (dims 96/192/384/768, depths 3/3/27/3, 1000 classes); other values only serve tests.
/// </summary>
public sealed record ConvNeXtConfig : IValidatable
{
    public int[] Dims { get; init; } = [96, 192, 384, 768];
    public int[] Depths { get; init; } = [3, 3, 27, 3];
    public int NumClasses { get; init; } = 1000;

    /// <summary>LayerNorm epsilon (torchvision: 1e‑6).</summary>
    public double LayerNormEps { get; init; } = 1e-6;

    public static ConvNeXtConfig Small => new();

    public void Validate()
    {
        ConfigValidationException.Require(Dims.Length >= 1 && Dims.Length == Depths.Length, "dims",
            $"dims and depths must be non-empty and of equal length, got {Dims.Length} and {Depths.Length}");
        ConfigValidationException.Require(Dims.All(d => d >= 1), "dims", "every width must be >= 1");
        ConfigValidationException.Require(Depths.All(d => d >= 1), "depths", "every stage needs >= 1 block");
        ConfigValidationException.Require(NumClasses >= 1, "num_classes", $"must be >= 1, got {NumClasses}");
        ConfigValidationException.Require(LayerNormEps > 0, "layer_norm_eps", $"must be > 0, got {LayerNormEps}");
    }
}
