using TorchSharp;
using Vgt.Models.DcAe;
using static TorchSharp.torch;

namespace Vgt.Models.VgtAe;

/// <summary>
/// The pixel-VAE baseline of the convergence study: a DC-AE conv encoder (`encoder.*`, diffusers names) on raw [−1,1]
/// pixels, the same DC-AE-style decoder (`decoder.*`), and the same latent post-processing as VGT-AE (channel norm,
/// noise, scale, optional KL). No VLM anywhere. Stride = the encoder's 2^(stages−1).
/// </summary>
public sealed class ConvAutoencoder : LatentAutoencoder
{
    public readonly DcAeEncoder encoder;

    public ConvAutoencoder(VgtAeConfig config, Device? device = null) : base(nameof(ConvAutoencoder), config, device)
    {
        if (config.Encoder != AeEncoderKind.Conv) throw new ArgumentException("ConvAutoencoder needs encoder = conv");
        encoder = new DcAeEncoder(config.DcAe with { LatentChannels = config.EncoderOutChannels }, device);   // torch default init
        RegisterComponents();
    }

    protected override Tensor EncodeRaw(Tensor images, out Tensor? distillLoss)
    {
        distillLoss = null;
        return encoder.forward(images);   // [B,C',H/s,W/s]
    }
}
