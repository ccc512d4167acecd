using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// DC-AE ResBlock (diffusers <c>ResBlock</c>): out = x + norm(conv2(act(conv1(x)))).
/// conv1 3×3 C→C with bias, conv2 3×3 C→C without bias, no activation after the norm.
/// </summary>
public sealed class ResBlock : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv1;                      // weight [C, C, 3, 3], bias [C]; torch default (kaiming-uniform) init
    public readonly Conv2d conv2;                      // weight [C, C, 3, 3], no bias
    public readonly nn.Module<Tensor, Tensor> norm;    // rms_norm: weight [C] = 1, bias [C] = 0; or BatchNorm2d
    readonly nn.Module<Tensor, Tensor> nonlinearity;   // no parameters

    public ResBlock(long channels, string normType = "rms_norm", string actFn = "silu", Device? device = null) : base(nameof(ResBlock))
    {
        conv1 = nn.Conv2d(channels, channels, 3, padding: 1, device: device);
        conv2 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false, device: device);
        norm = DcAeLayers.Norm(normType, channels, device);
        nonlinearity = DcAeLayers.Activation(actFn);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // x: [B, C, H, W] -> [B, C, H, W]
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(x);
        var a = nonlinearity.forward(h);
        h.Dispose();                      // free full-resolution maps early (stage 0 runs at 128×512×512)
        h = conv2.forward(a);
        a.Dispose();
        var y = norm.forward(h);
        h.Dispose();
        return y.add_(x).MoveToOuterDisposeScope();
    }
}
