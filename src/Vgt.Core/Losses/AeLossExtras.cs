using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// What the AE forward returns besides the reconstruction: the scalar distillation loss (absent ⇒ 0) and,
/// for a KL autoencoder, the per-sample posterior KL [B] (see <see cref="KlDivergence"/>; absent ⇒ 0).
/// </summary>
public sealed record AeLossExtras(Tensor? DistillLoss = null, Tensor? KlPerSample = null)
{
    public static readonly AeLossExtras None = new();
}

/// <summary>A loss to backpropagate and its breakdown for logging (the reference's loss_dict keys).</summary>
public sealed record AeLossOutput(Tensor Loss, IReadOnlyDictionary<string, double> Logs);
