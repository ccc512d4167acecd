using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>The norm and activation choices of diffusers' <c>get_normalization</c> / <c>get_activation</c> used by DC-AE.</summary>
public static class DcAeLayers
{
    public static readonly string[] NormTypes = ["rms_norm", "batch_norm"];
    public static readonly string[] ActFns = ["silu", "swish", "relu", "gelu", "mish"];

    /// <summary>A channel norm for [B, C, H, W] maps: RMSNorm (weight + bias, eps 1e-5) or BatchNorm2d (eps 1e-5, eval uses running stats).</summary>
    public static nn.Module<Tensor, Tensor> Norm(string type, long channels, Device? device) => type switch
    {
        "rms_norm" => new RmsNorm2d(channels, 1e-5, device),
        "batch_norm" => nn.BatchNorm2d(channels, eps: 1e-5, device: device),
        _ => throw new ArgumentException($"Unsupported DC-AE norm type '{type}' (supported: {string.Join(", ", NormTypes)})."),
    };

    /// <summary>A parameter-free activation by diffusers name (gelu is the exact erf GELU).</summary>
    public static nn.Module<Tensor, Tensor> Activation(string name) => name switch
    {
        "silu" or "swish" => nn.SiLU(),
        "relu" => nn.ReLU(),
        "gelu" => nn.GELU(),
        "mish" => nn.Mish(),
        _ => throw new ArgumentException($"Unsupported DC-AE activation '{name}' (supported: {string.Join(", ", ActFns)})."),
    };
}
