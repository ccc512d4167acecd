using System.Security.Cryptography;
using TorchSharp;
using Vgt.Models.VgtAe;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>A VGT-AE (or the conv baseline) model directory as a frozen <see cref="ILatentAutoencoder"/>: eval mode, no gradients.</summary>
public sealed class VgtAeLatentAutoencoder : ILatentAutoencoder
{
    readonly LatentAutoencoder ae;

    public VgtAeLatentAutoencoder(string directory)
    {
        ae = VgtAeModel.Load(directory);
        ae.eval();
        foreach (var p in ae.parameters()) p.requires_grad = false;
        using var stream = File.OpenRead(Path.Combine(directory, VgtAeModel.WeightsFile));
        WeightsSha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public string Kind => "vgt_ae";
    public int Stride => ae.Stride;
    public int LatentChannels => ae.LatentChannels;
    public string WeightsSha256 { get; }

    public Tensor Encode(Tensor images)
    {
        using var _ = no_grad();
        return ae.Encode(images).Latent;
    }

    public Tensor Decode(Tensor z)
    {
        using var _ = no_grad();
        return ae.Decode(z);
    }

    public void Dispose() => ae.Dispose();
}
