using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>
/// A frozen network that maps images to features: used by <see cref="Vgt.Losses.FeaturePerceptualLoss"/> (a
/// perceptual term on a teacher, e.g. the frozen VLM vision tower) and by the Fréchet-distance metrics.
/// Input: images [B, 3, H, W] in [0, 1] (the extractor does its own resizing and normalisation).
/// Output: [B, D] vectors or [B, N, D] token features (D last).
/// </summary>
public interface IFeatureExtractor
{
    /// <summary>Short name used in metric labels ("teacher", "inception").</summary>
    string Name { get; }

    Tensor Features(Tensor images);
}
