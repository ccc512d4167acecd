using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// Conv2d with TensorFlow "SAME" padding (reference §5.3): per spatial axis, total pad =
/// max((⌈i/s⌉ − 1)·s + (k − 1)·d + 1 − i, 0); left/top = ⌊pad/2⌋, right/bottom = the rest. Square kernel,
/// bias, PyTorch's default init (weight and bias U(−1/√fan_in, 1/√fan_in), i.e. kaiming_uniform with a = √5).
/// State-dict names <c>weight</c> [out,in,k,k] and <c>bias</c> [out].
/// </summary>
public sealed class Conv2dSame : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public long Kernel { get; }
    public long Stride { get; }
    public long Dilation { get; }

    public Conv2dSame(long cin, long cout, long kernel, long stride = 1, long dilation = 1, Generator? generator = null)
        : base("Conv2dSame")
    {
        if (cin < 1 || cout < 1 || kernel < 1 || stride < 1 || dilation < 1)
            throw new ArgumentException($"Conv2dSame({cin}→{cout}, k={kernel}, s={stride}, d={dilation}): all sizes must be >= 1");
        Kernel = kernel; Stride = stride; Dilation = dilation;
        double bound = 1.0 / Math.Sqrt(cin * kernel * kernel);
        weight = new Parameter(empty(cout, cin, kernel, kernel).uniform_(-bound, bound, generator));
        bias = new Parameter(empty(cout).uniform_(-bound, bound, generator));
        RegisterComponents();
    }

    /// <summary>Total SAME padding along one axis of size <paramref name="i"/>.</summary>
    public static long SamePad(long i, long k, long s, long d = 1) =>
        Math.Max((((i + s - 1) / s) - 1) * s + (k - 1) * d + 1 - i, 0);

    /// <summary>Pads [.., H, W] with (left, right, top, bottom) = (⌊pw/2⌋, pw − ⌊pw/2⌋, ⌊ph/2⌋, ph − ⌊ph/2⌋).</summary>
    public static Tensor PadSame(Tensor x, long k, long s, long d = 1)
    {
        long ph = SamePad(x.shape[^2], k, s, d), pw = SamePad(x.shape[^1], k, s, d);
        if (ph == 0 && pw == 0) return x;
        return nn.functional.pad(x, [pw / 2, pw - pw / 2, ph / 2, ph - ph / 2]);
    }

    /// <summary>x [B,in,H,W] → [B,out,⌈H/s⌉,⌈W/s⌉].</summary>
    public override Tensor forward(Tensor x) =>
        nn.functional.conv2d(PadSame(x, Kernel, Stride, Dilation), weight, bias,
            strides: [Stride, Stride], dilation: [Dilation, Dilation]);
}
