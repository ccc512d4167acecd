using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// DC-AE EfficientViT block (diffusers <c>EfficientViTBlock</c>): out = conv_out(attn(x)), each sub-module with its own
/// residual. attn = Sana multiscale linear attention (norm = the stage's norm type); conv_out = GLUMBConv (always RMSNorm).
/// </summary>
public sealed class EfficientVitBlock : nn.Module<Tensor, Tensor>
{
    public readonly SanaMultiscaleLinearAttention attn;
    public readonly GluMbConv conv_out;

    public EfficientVitBlock(long channels, long headDim, IReadOnlyList<int> qkvMultiscales, string normType = "rms_norm",
        Device? device = null) : base(nameof(EfficientVitBlock))
    {
        attn = new SanaMultiscaleLinearAttention(channels, headDim, qkvMultiscales, normType, device);
        conv_out = new GluMbConv(channels, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // x: [B, C, H, W] -> [B, C, H, W]
    {
        using var scope = NewDisposeScope();
        return conv_out.forward(attn.forward(x)).MoveToOuterDisposeScope();
    }
}
