using TorchSharp;
using TorchSharp.Modules;
using Vgt.Models.DcAe;
using static TorchSharp.torch;

namespace Vgt.Models.VgtAe;

/// <summary>
/// What <see cref="LatentAutoencoder.Encode"/> returns: the latent z [B,C,h,w] and, in training, the self-distillation
/// loss (scalar; VLM encoder with a teacher) and the per-sample KL [B] (KL variant). Tensors belong to the caller's scope.
/// </summary>
public sealed record AeEncoding(Tensor Latent, Tensor? DistillLoss = null, Tensor? KlPerSample = null);

/// <summary>
/// The part of VGT-AE shared by the VLM-based AE (<see cref="VgtAutoencoder"/>) and the conv baseline
/// (<see cref="ConvAutoencoder"/>): latent post-processing (vgt-reference §4.2 steps 4–7) and decoding (§4.3).
/// encode: raw [B,C',h,w] → ·scale → KL posterior (mean ⊕ logvar, channel-LN on the mean) or channel-LN → + α·ε (training).
/// decode: z / scale → DC-AE decoder → bilinear resize to (stride·h, stride·w) when the decoder's factor differs (32 → 28).
/// Subclasses register their modules; the decoder is the public field <see cref="decoder"/> (state-dict names `decoder.*`).
/// </summary>
public abstract class LatentAutoencoder : nn.Module
{
    public const double ChannelNormEps = 1e-6;

    public readonly DcAeDecoder decoder;

    protected LatentAutoencoder(string name, VgtAeConfig config, Device? device) : base(name)
    {
        config.Validate();
        Config = config;
        decoder = new DcAeDecoder(config.DcAe, device);   // torch default init (the reference loads pretrained weights here)
    }

    public VgtAeConfig Config { get; }

    public int Stride => Config.Stride;

    public int LatentChannels => Config.LatentChannels;

    /// <summary>Latent grid for an image of the given size: (H/stride, W/stride).</summary>
    public (long Height, long Width) LatentSize(long height, long width) => (height / Stride, width / Stride);

    /// <summary>images [B,3,H,W] in [−1,1] (H, W multiples of the stride) → pre-posterior features [B, C', H/s, W/s] and the distillation loss.</summary>
    protected abstract Tensor EncodeRaw(Tensor images, out Tensor? distillLoss);

    /// <summary>Encodes images [B,3,H,W] in [−1,1]; in training mode adds noise (and samples the KL posterior) with <paramref name="noise"/>.</summary>
    public AeEncoding Encode(Tensor images, Generator? noise = null)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        var raw = EncodeRaw(images, out var distill).to_type(ScalarType.Float32) * Config.ScaleEmbedding;   // [B,C',h,w]
        Tensor z;
        Tensor? kl = null;
        if (Config.Kl)
        {
            var parts = raw.chunk(2, dim: 1);
            var mean = Config.ChannelNorm ? ChannelNorm(parts[0]) : parts[0];
            var logvar = parts[1].clamp(-30.0, 20.0);
            var variance = logvar.exp();
            kl = 0.5 * (mean.square() + variance - 1.0 - logvar).sum([1, 2, 3]);          // [B]
            // The reference samples even in eval mode (§11.2 item 12); we sample in training and use the mean in eval.
            z = training ? mean + (0.5 * logvar).exp() * randn(mean.shape, generator: noise, device: mean.device) : mean;
        }
        else
        {
            z = Config.ChannelNorm ? ChannelNorm(raw) : raw;
        }
        if (training && Config.NoiseStrength > 0)
        {
            var alpha = rand([z.shape[0], 1, 1, 1], generator: noise, device: z.device) * Config.NoiseStrength;   // α ~ U(0, γ) per sample
            z = z + alpha * randn(z.shape, generator: noise, device: z.device);
        }
        return new AeEncoding(z.MoveToOuterDisposeScope(), distill?.MoveToOuterDisposeScope(), kl?.MoveToOuterDisposeScope());
    }

    /// <summary>z [B,C,h,w] → images [B,3,stride·h,stride·w], nominally in [−1,1], not clamped.</summary>
    public Tensor Decode(Tensor z)
    {
        if (z.dim() != 4 || z.shape[1] != LatentChannels)
            throw new ArgumentException($"expected latents [B, {LatentChannels}, h, w], got [{string.Join(", ", z.shape)}]");
        using var scope = NewDisposeScope();
        var x = decoder.forward(z / Config.ScaleEmbedding);                                    // [B,3,r·h,r·w]
        if (x.shape[2] != Stride * z.shape[2] || x.shape[3] != Stride * z.shape[3])
            x = DecodedImageResize.ToStride(x, z.shape[2], z.shape[3], Stride);                // bilinear, no antialias
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Encode then decode: (reconstruction [B,3,H,W], encoding).</summary>
    public (Tensor Reconstruction, AeEncoding Encoding) Reconstruct(Tensor images, Generator? noise = null)
    {
        var enc = Encode(images, noise);
        return (Decode(enc.Latent), enc);
    }

    /// <summary>Parameter-free LayerNorm over the channels of each position: z [B,C,h,w] → [B,C,h,w] (eps 1e−6).</summary>
    public static Tensor ChannelNorm(Tensor z)
    {
        using var scope = NewDisposeScope();
        var moved = z.permute(0, 2, 3, 1);                                                     // [B,h,w,C]
        var normed = nn.functional.layer_norm(moved, [z.shape[1]], eps: ChannelNormEps);
        return normed.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Trainable parameters with their state-dict names (the frozen teacher is excluded).</summary>
    public IEnumerable<(string Name, Parameter Param)> TrainableParameters() =>
        named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter));

    /// <summary>Prefixes of tensors that are not saved in a model directory (rebuilt from elsewhere).</summary>
    public virtual IReadOnlyList<string> ExcludedFromExport => [];

    /// <summary>The state dict to ship (official names, teacher excluded).</summary>
    public Dictionary<string, Tensor> ExportState() => state_dict()
        .Where(kv => !ExcludedFromExport.Any(p => kv.Key.StartsWith(p, StringComparison.Ordinal)))
        .ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>Throws a clear error unless images are [B,3,H,W] with H and W positive multiples of the stride.</summary>
    public void CheckImages(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"expected images [B, 3, H, W], got [{string.Join(", ", images.shape)}]");
        long h = images.shape[2], w = images.shape[3];
        if (h < Stride || w < Stride || h % Stride != 0 || w % Stride != 0)
            throw new ArgumentException(
                $"image size {w}×{h} is not a multiple of the AE stride {Stride}; centre-crop or pad it first (StrideFit / --fit crop|pad)");
    }
}
