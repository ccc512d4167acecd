using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>
/// torchvision VGG16 (configuration "D") <c>features</c> split into the five LPIPS slices at module indices
/// [0‑3], [4‑8], [9‑15], [16‑22], [23‑29], keeping the original indices as names (<c>slice2.5.weight</c> is
/// torchvision's <c>features.5.weight</c>). Outputs relu1_2 (64), relu2_2 (128), relu3_3 (256), relu4_3 (512),
/// relu5_3 (512). Conv 3×3 pad 1 with bias, ReLU, MaxPool 2×2 stride 2.
/// </summary>
public sealed class LpipsVgg16 : nn.Module<Tensor, Tensor[]>
{
    /// <summary>Channel widths of configuration "D"; -1 = max-pool.</summary>
    static readonly int[] Cfg = [64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512];

    /// <summary>First torchvision index of each slice; slice k covers [Starts[k], Starts[k+1]).</summary>
    public static readonly int[] SliceStarts = [0, 4, 9, 16, 23, 30];

    public static readonly int[] Channels = [64, 128, 256, 512, 512];

    private readonly Sequential slice1, slice2, slice3, slice4, slice5;

    public LpipsVgg16() : base("net")
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        long c = 3;
        foreach (var v in Cfg)
        {
            if (v < 0) { layers.Add(nn.MaxPool2d(2, 2)); continue; }
            layers.Add(nn.Conv2d(c, v, 3, padding: 1));    // PyTorch default init; real weights come from a file
            layers.Add(nn.ReLU());
            c = v;
        }
        Sequential Slice(int k) => nn.Sequential(Enumerable.Range(SliceStarts[k], SliceStarts[k + 1] - SliceStarts[k])
            .Select(i => (i.ToString(), (nn.Module<Tensor, Tensor>)layers[i])).ToArray());
        slice1 = Slice(0); slice2 = Slice(1); slice3 = Slice(2); slice4 = Slice(3); slice5 = Slice(4);
        RegisterComponents();
    }

    /// <summary>x [B,3,H,W] (already scaled) → the five ReLU feature maps.</summary>
    public override Tensor[] forward(Tensor x)
    {
        var h1 = slice1.forward(x);   // [B,64,H,W]
        var h2 = slice2.forward(h1);  // [B,128,H/2,W/2]
        var h3 = slice3.forward(h2);  // [B,256,H/4,W/4]
        var h4 = slice4.forward(h3);  // [B,512,H/8,W/8]
        var h5 = slice5.forward(h4);  // [B,512,H/16,W/16]
        return [h1, h2, h3, h4, h5];
    }

    /// <summary>Maps torchvision <c>features.{i}.*</c> names to <c>net.slice{k}.{i}.*</c>.</summary>
    public static string? SliceNameOf(string torchvisionName)
    {
        if (!torchvisionName.StartsWith("features.", StringComparison.Ordinal)) return null;
        var rest = torchvisionName["features.".Length..];
        var dot = rest.IndexOf('.');
        if (dot < 0 || !int.TryParse(rest[..dot], out var i) || i >= SliceStarts[^1]) return null;
        int k = Array.FindLastIndex(SliceStarts, s => s <= i);
        return $"net.slice{k + 1}.{rest}";
    }
}
