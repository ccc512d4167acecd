using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>Turns AE latents into pixels (the VGT-AE decoder implements this; tests use a trivial one).</summary>
public interface ILatentDecoder
{
    /// <summary>Pixels per latent cell along each side (28 for VGT-AE).</summary>
    int Stride { get; }

    /// <summary>Latent channels expected (32 for VGT-AE).</summary>
    int LatentChannels { get; }

    /// <summary>z [N, C, h, w] (channel-normed) → images [N, 3, Stride·h, Stride·w], nominally in [−1, 1].</summary>
    Tensor Decode(Tensor z);
}
