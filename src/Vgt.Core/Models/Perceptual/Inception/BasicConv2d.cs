using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual.Inception;

/// <summary>Inception's conv unit: <c>conv</c> (no bias) → <c>bn</c> (BatchNorm, eps 0.001, running stats) → ReLU.</summary>
public sealed class BasicConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public BasicConv2d(long cin, long cout, (long H, long W) kernel, long stride = 1, (long H, long W) padding = default)
        : base("BasicConv2d")
    {
        conv = nn.Conv2d(cin, cout, kernel, stride: (stride, stride), padding: padding, bias: false);
        bn = nn.BatchNorm2d(cout, eps: 0.001);
        RegisterComponents();
    }

    public BasicConv2d(long cin, long cout, long kernel, long stride = 1, long padding = 0)
        : this(cin, cout, (kernel, kernel), stride, (padding, padding)) { }

    public long OutChannels => conv.weight!.shape[0];

    public override Tensor forward(Tensor x) => nn.functional.relu(bn.forward(conv.forward(x)));
}
