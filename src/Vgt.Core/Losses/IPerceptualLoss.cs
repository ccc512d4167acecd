using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// A frozen perceptual distance for the AE generator loss. Both images are [B,3,H,W] in [0,1] (fp32), in the
/// reference's argument order: the real <paramref name="inputs"/> first, then the <paramref name="reconstructions"/>
/// (which carry the gradient). Returns a scalar (batch mean).
/// </summary>
public interface IPerceptualLoss
{
    Tensor Loss(Tensor inputs, Tensor reconstructions);
}
