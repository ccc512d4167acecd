using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>
/// LPIPS' per-layer 1×1 conv to one channel without bias, named <c>model.1.weight</c>; index 0 is the
/// reference's Dropout, which is inactive in eval and therefore never applied here.
/// </summary>
public sealed class NetLinLayer : nn.Module<Tensor, Tensor>
{
    private readonly Sequential model;

    public NetLinLayer(long channels) : base("lin")
    {
        model = nn.Sequential(("0", nn.Dropout()), ("1", nn.Conv2d(channels, 1, 1, bias: false)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => ((Conv2d)model[1]).forward(x);   // [B,C,h,w] → [B,1,h,w]
}
