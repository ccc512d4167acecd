using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>Turns images into the channel-normed AE latents a generator is trained on (the frozen VGT-AE encoder).</summary>
public interface ILatentEncoder
{
    /// <summary>Pixels per latent cell along each side.</summary>
    int Stride { get; }

    /// <summary>Latent channels produced.</summary>
    int LatentChannels { get; }

    /// <summary>images [N, 3, H, W] in [−1, 1] (H, W multiples of <see cref="Stride"/>) → z [N, C, H/s, W/s], deterministic (eval mode).</summary>
    Tensor Encode(Tensor images);
}

/// <summary>A frozen autoencoder: both halves, plus the hash of its weights (for latent caches).</summary>
public interface ILatentAutoencoder : ILatentEncoder, ILatentDecoder, IDisposable
{
    /// <summary>What kind of AE this is, e.g. <c>patch_linear</c> or <c>vgt_ae</c>.</summary>
    string Kind { get; }

    /// <summary>Pixels per latent cell (encoder and decoder agree).</summary>
    new int Stride { get; }

    /// <summary>Latent channels (encoder and decoder agree).</summary>
    new int LatentChannels { get; }

    /// <summary>sha256 of the weights file (identifies the latent space for caches).</summary>
    string WeightsSha256 { get; }
}
