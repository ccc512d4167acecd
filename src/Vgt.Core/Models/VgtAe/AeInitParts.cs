namespace Vgt.Models.VgtAe;

/// <summary>Which tensors an AE takes from another AE's checkpoint (an AE stage's <c>init_parts</c>; JSON: "all", "encoder", "matching").</summary>
public enum AeInitParts
{
    /// <summary>Every tensor; the checkpoint must match the configured AE exactly.</summary>
    All,

    /// <summary>
    /// Everything outside <c>decoder.*</c>; the decoder keeps its fresh initialisation and may have any size. With
    /// train_decoder_only this trains a new decoder on a finished encoder, whose latents stay bit-identical.
    /// </summary>
    Encoder,

    /// <summary>
    /// Everything outside <c>decoder.*</c> (exactly, as <see cref="All"/>), and each decoder tensor whose name and shape
    /// the configured decoder shares with the checkpoint's; the decoder's other tensors (new or resized layers, e.g. the
    /// full-resolution stage and output head when decoder_layers_per_block goes from [0,2,2,2] to [1,2,2,2]) keep their
    /// fresh initialisation. Warm-starts a larger decoder from a trained one.
    /// </summary>
    Matching,
}

/// <summary>What <see cref="VgtAeModel.LoadInit"/> left out: the AE's decoder tensors that keep their fresh
/// initialisation, and the checkpoint's decoder tensors it did not take (sorted names).</summary>
public sealed record AeInitReport(IReadOnlyList<string> FreshDecoderTensors, IReadOnlyList<string> DroppedCheckpointTensors);
