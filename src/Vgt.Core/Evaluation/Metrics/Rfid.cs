using Vgt.Models.Perceptual.Inception;

namespace Vgt.Evaluation.Metrics;

/// <summary>
/// rFID as the reference evaluator computes it: <see cref="InceptionV3Fid"/> pool features
/// (pytorch-fid weights, uint8 quantisation, TF1 resize to 299, fp64) of real and reconstructed images.
/// </summary>
public sealed class Rfid(InceptionV3Fid inception) : FeatureFrechetDistance(inception)
{
    public override string Label => "rFID";
}
