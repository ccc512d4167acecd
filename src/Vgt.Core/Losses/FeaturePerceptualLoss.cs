using TorchSharp;
using Vgt.Models.Perceptual;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// Perceptual term on a frozen teacher feature extractor (our addition for data the ImageNet networks do not suit,
/// e.g. Shapes World with the frozen VLM vision tower as teacher). With f = teacher.Features(·) and
/// n(f) = f / (‖f‖ + 1e‑10) along the feature dimension (the last one by default, or e.g. 1 for [B,C,H,W] maps):
/// loss = mean((n(f(x̂)) − n(f(x)))²) over all elements. Per vector this equals (2 − 2·cos)/D.
/// The real images' features are computed without gradient; the reconstructions' features carry it (through the
/// frozen teacher). Not a module: the teacher belongs to the model and is not part of the loss state dict.
/// </summary>
public sealed class FeaturePerceptualLoss(IFeatureExtractor teacher, long featureDim = -1, double eps = 1e-10) : IPerceptualLoss
{
    public IFeatureExtractor Teacher { get; } = teacher;

    public Tensor Loss(Tensor inputs, Tensor reconstructions)
    {
        Tensor target;
        using (no_grad()) target = Normalise(Teacher.Features(inputs)).detach();
        var pred = Normalise(Teacher.Features(reconstructions));
        if (!pred.shape.SequenceEqual(target.shape))
            throw new InvalidOperationException($"teacher features differ in shape: [{string.Join(",", pred.shape)}] vs [{string.Join(",", target.shape)}]");
        return (pred - target).square().mean();
    }

    Tensor Normalise(Tensor f) => f / (f.square().sum(featureDim, keepdim: true).sqrt() + eps);
}
