using System.Text.Json.Serialization;
using Vgt.Config;
using Vgt.Models.DcAe;
using Vgt.Models.InternVit;
using Vgt.Models.InternVl;

namespace Vgt.Models.VgtAe;

/// <summary>Which encoder an autoencoder has: the VLM's vision tower + projector (VGT-AE) or a DC-AE conv encoder (the pixel-VAE baseline).</summary>
public enum AeEncoderKind
{
    Vlm,
    Conv,
}

/// <summary>
/// The VLM modules VGT-AE's encoder reuses (vgt-reference §4.1–4.2): the InternViT tower (all layers are run, as the
/// reference does), pixel shuffle by 1/<see cref="DownsampleRatio"/>, and mlp1 (LayerNorm(D·k²) → Linear → GELU → Linear
/// to <see cref="ProjectorSize"/> = the LLM width).
/// </summary>
public sealed record VgtAeVisionConfig(
    InternVitConfig Vision,
    double DownsampleRatio,
    PixelShuffleVersion PsVersion,
    int ProjectorSize,
    double ProjectorLayerNormEps = 1e-5) : IValidatable
{
    /// <summary>Pixel-shuffle factor k (2 for InternVL3).</summary>
    [JsonIgnore] public int ShuffleFactor => (int)Math.Round(1.0 / DownsampleRatio);

    /// <summary>Pixels per latent cell: patch · k (28 for InternVL3).</summary>
    [JsonIgnore] public int Stride => Vision.PatchSize * ShuffleFactor;

    /// <summary>mlp1 input width D_vit · k².</summary>
    [JsonIgnore] public int ProjectorInputSize => Vision.HiddenSize * ShuffleFactor * ShuffleFactor;

    public static VgtAeVisionConfig FromInternVl(InternVlConfig vlm) =>
        new(vlm.Vision, vlm.DownsampleRatio, vlm.PsVersion, vlm.Llm.HiddenSize, vlm.Projector.LayerNormEps);

    public void Validate()
    {
        ConfigValidationException.Require(Vision is not null, "vision.vision", "is required");
        Vision!.Validate();
        ConfigValidationException.Require(DownsampleRatio > 0 && DownsampleRatio <= 1
            && Math.Abs(1.0 / DownsampleRatio - Math.Round(1.0 / DownsampleRatio)) < 1e-9,
            "vision.downsample_ratio", $"must be 1/k for a whole k >= 1, got {DownsampleRatio}");
        ConfigValidationException.Require(ProjectorSize > 0, "vision.projector_size", $"must be > 0, got {ProjectorSize}");
        ConfigValidationException.Require(ProjectorLayerNormEps > 0, "vision.projector_layer_norm_eps", "must be > 0");
    }
}

/// <summary>
/// A VGT-AE style autoencoder (snake_case JSON; the `config.json` of a model directory). One record serves the
/// VLM-based AE (<see cref="AeEncoderKind.Vlm"/>: <see cref="Vision"/> + bottleneck) and the conv baseline
/// (<see cref="AeEncoderKind.Conv"/>: <see cref="DcAe"/>'s encoder fields). Both use <see cref="DcAe"/>'s decoder and the
/// same latent post-processing: × <see cref="ScaleEmbedding"/>, optional channel LayerNorm (eps 1e−6, no affine),
/// optional KL posterior, and in training z + α·ε with α ~ U(0, <see cref="NoiseStrength"/>) per sample.
/// </summary>
public sealed record VgtAeConfig : IValidatable
{
    public AeEncoderKind Encoder { get; init; } = AeEncoderKind.Vlm;

    /// <summary>The VLM modules (required for <see cref="AeEncoderKind.Vlm"/>).</summary>
    public VgtAeVisionConfig? Vision { get; init; }

    /// <summary>Where the vision tower + projector came from (a VLM model directory or hub name); the teacher is rebuilt from it.</summary>
    public string? VlmSource { get; init; }

    /// <summary>Latent channels C (32 in the reference).</summary>
    public int LatentChannels { get; init; } = 32;

    /// <summary>Residual MLP blocks after mlp1 (3 in the reference).</summary>
    public int DownBlocks { get; init; } = 3;

    /// <summary>Parameter-free LayerNorm over the C channels of each latent position (reference `encoder_norm`).</summary>
    public bool ChannelNorm { get; init; } = true;

    /// <summary>γ of the training-time noise z + α·ε, α ~ U(0, γ) per sample (reference `max_noise_strength`).</summary>
    public double NoiseStrength { get; init; }

    /// <summary>z = features · scale at encode, z / scale at decode (reference `scale_embeding`, 1.0).</summary>
    public double ScaleEmbedding { get; init; } = 1.0;

    /// <summary>KL variant: the bottleneck outputs 2C channels (mean ⊕ log-variance); the latent is sampled in training, the mean in eval.</summary>
    public bool Kl { get; init; }

    /// <summary>Build the frozen self-distillation teacher (a copy of the original vision tower + projector). Off for inference.</summary>
    public bool Teacher { get; init; } = true;

    /// <summary>
    /// Reproduce the reference tokenizer's data-dependent normalisation: skip the [−1,1]→[0,1] map and ImageNet
    /// normalisation when x.min() ≥ 0 (vgt-reference §2.5, §11.2 item 7). Off: always normalise.
    /// </summary>
    public bool ReferenceNormalizationQuirk { get; init; }

    /// <summary>The decoder (and, for the conv baseline, the encoder) architecture, diffusers field names.</summary>
    public DcAeConfig DcAe { get; init; } = DcAeConfig.Sana11F32C32;

    /// <summary>Nominal image side for training and evaluation (a multiple of <see cref="Stride"/>).</summary>
    public int ImageSize { get; init; } = 448;

    /// <summary>Pixels per latent cell: the VLM's patch · shuffle factor, or the conv encoder's 2^(stages−1).</summary>
    [JsonIgnore]
    public int Stride => Encoder == AeEncoderKind.Vlm ? Vision!.Stride : DcAe.SpatialCompressionRatioEncoder;

    /// <summary>Channels the encoder emits before the posterior split: 2C for KL, C otherwise.</summary>
    [JsonIgnore] public int EncoderOutChannels => Kl ? 2 * LatentChannels : LatentChannels;

    public void Validate()
    {
        ConfigValidationException.Require(Enum.IsDefined(Encoder), "encoder", $"unknown value {Encoder}");
        ConfigValidationException.Require(LatentChannels > 0, "latent_channels", $"must be > 0, got {LatentChannels}");
        ConfigValidationException.Require(DownBlocks >= 0, "down_blocks", $"must be >= 0, got {DownBlocks}");
        ConfigValidationException.Require(NoiseStrength >= 0 && double.IsFinite(NoiseStrength), "noise_strength", $"must be finite and >= 0, got {NoiseStrength}");
        ConfigValidationException.Require(ScaleEmbedding > 0 && double.IsFinite(ScaleEmbedding), "scale_embedding", $"must be a positive number, got {ScaleEmbedding}");
        ConfigValidationException.Require(DcAe is not null, "dc_ae", "is required");
        DcAe!.Validate();
        ConfigValidationException.Require(DcAe.LatentChannels == LatentChannels, "dc_ae.latent_channels",
            $"must equal latent_channels ({LatentChannels}), got {DcAe.LatentChannels}");
        if (Encoder == AeEncoderKind.Vlm)
        {
            ConfigValidationException.Require(Vision is not null, "vision", "is required for a VLM encoder");
            Vision!.Validate();
        }
        else
        {
            ConfigValidationException.Require(Vision is null, "vision", "must be absent for a conv encoder");
            ConfigValidationException.Require(!Teacher, "teacher", "a conv encoder has no VLM teacher; set teacher to false");
            ConfigValidationException.Require(!Kl || DcAe.EncoderBlockOutChannels[^1] % (2 * LatentChannels) == 0 || !DcAe.EncoderOutShortcut,
                "kl", $"the encoder's averaging shortcut needs its last width divisible by 2·latent_channels ({2 * LatentChannels})");
        }
        int r = DcAe.SpatialCompressionRatio;
        ConfigValidationException.Require(r >= Stride, "dc_ae.decoder_block_out_channels",
            $"the decoder upsamples ×{r}, less than the stride {Stride}; the reference decodes ×32 then resizes down to ×28");
        ConfigValidationException.Require(ImageSize > 0 && ImageSize % Stride == 0, "image_size", $"must be a positive multiple of the stride {Stride}, got {ImageSize}");
    }

    /// <summary>
    /// The reference VGT-AE for InternVL3 (stage-2 settings, vgt-reference §4.7): InternVL3-1B's InternViT-300M + mlp1
    /// (896), 3 residual MLP blocks, C = 32, channel norm, γ = 0.1, DC-AE f32c32 sana-1.1 decoder, stride 28, 448 px.
    /// </summary>
    public static VgtAeConfig InternVl3_1B { get; } = new()
    {
        Encoder = AeEncoderKind.Vlm,
        Vision = VgtAeVisionConfig.FromInternVl(InternVlConfig.InternVl3_1B),
        VlmSource = "OpenGVLab/InternVL3-1B",
        LatentChannels = 32,
        DownBlocks = 3,
        ChannelNorm = true,
        NoiseStrength = 0.1,
        ScaleEmbedding = 1.0,
        Teacher = true,
        DcAe = DcAeConfig.Sana11F32C32,
        ImageSize = 448,
    };
}
