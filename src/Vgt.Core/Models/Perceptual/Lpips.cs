using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>
/// LPIPS with VGG16 in the taming-transformers layout (reference §5.2). State-dict names:
/// <c>scaling_layer.shift/scale</c>, <c>net.slice{1..5}.{i}.weight/bias</c>, <c>lin{0..4}.model.1.weight</c>.
/// forward(a, b) with images in [0, 1]: v → 2v−1 → (v − shift)/scale → VGG features; each map unit-normalised
/// over channels (x / (√Σ_c x² + 1e‑10)); squared difference; 1×1 conv to one channel (no bias); spatial mean;
/// sum over the five layers → [B,1,1,1]. Frozen and always evaluated in eval mode.
/// </summary>
public sealed class Lpips : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LpipsScalingLayer scaling_layer;
    private readonly LpipsVgg16 net;
    private readonly NetLinLayer lin0, lin1, lin2, lin3, lin4;

    public Lpips() : base("lpips")
    {
        scaling_layer = new LpipsScalingLayer();
        net = new LpipsVgg16();
        var c = LpipsVgg16.Channels;
        lin0 = new NetLinLayer(c[0]); lin1 = new NetLinLayer(c[1]); lin2 = new NetLinLayer(c[2]);
        lin3 = new NetLinLayer(c[3]); lin4 = new NetLinLayer(c[4]);
        RegisterComponents();
        WeightFile.Freeze(this);
    }

    /// <summary>a, b [B,3,H,W] in [0,1] → [B,1,1,1].</summary>
    public override Tensor forward(Tensor a, Tensor b)
    {
        var terms = LayerTerms(a, b);
        var sum = terms[0];
        for (int k = 1; k < terms.Length; k++) sum = sum + terms[k];
        return sum;
    }

    /// <summary>The five per-layer terms, each [B,1,1,1].</summary>
    public Tensor[] LayerTerms(Tensor a, Tensor b)
    {
        if (a.dim() != 4 || a.shape[1] != 3 || !a.shape.SequenceEqual(b.shape))
            throw new ArgumentException($"LPIPS needs two [B,3,H,W] images of the same shape, got [{string.Join(",", a.shape)}] and [{string.Join(",", b.shape)}]");
        eval();
        var fa = net.forward(scaling_layer.forward(a * 2 - 1));
        var fb = net.forward(scaling_layer.forward(b * 2 - 1));
        NetLinLayer[] lins = [lin0, lin1, lin2, lin3, lin4];
        var terms = new Tensor[5];
        for (int k = 0; k < 5; k++)
        {
            var d = (UnitNormalise(fa[k]) - UnitNormalise(fb[k])).square();   // [B,C_k,h,w]
            terms[k] = lins[k].forward(d).mean([2, 3], keepdim: true);        // [B,1,1,1]
        }
        return terms;
    }

    /// <summary>x / (‖x‖_channels + 1e‑10).</summary>
    public static Tensor UnitNormalise(Tensor x, double eps = 1e-10) =>
        x / (x.square().sum(1, keepdim: true).sqrt() + eps);

    /// <summary>
    /// Loads torchvision's VGG16 state dict (<c>features.{i}.*</c>; classifier keys ignored) and the taming
    /// <c>vgg.pth</c> linear layers (<c>lin{k}.model.1.weight</c>). One combined file with LPIPS names also works:
    /// pass it twice.
    /// </summary>
    public static Lpips FromFiles(string vgg16Path, string linPath)
    {
        var lpips = new Lpips();
        var merged = new Dictionary<string, Tensor>();
        foreach (var (k, v) in WeightFile.Read(vgg16Path))
            merged[LpipsVgg16.SliceNameOf(k) ?? k] = v;
        foreach (var (k, v) in WeightFile.Read(linPath)) merged[k] = v;
        // The scaling constants are fixed by the method, never taken from a file.
        WeightFile.LoadInto(lpips, merged, $"{vgg16Path} + {linPath}", keepOwn: k => k.StartsWith("scaling_layer.", StringComparison.Ordinal));
        return lpips;
    }
}
