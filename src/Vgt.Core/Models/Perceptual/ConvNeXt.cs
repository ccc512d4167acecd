using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>
/// torchvision ConvNeXt classifier with its state-dict names (reference §5.2 uses <c>convnext_small</c>
/// IMAGENET1K_V1 as a frozen perceptual network). Layout: <c>features.0</c> = stem (Conv 4×4 stride 4,
/// LayerNorm2d); <c>features.{1,3,5,7}</c> = stages of <see cref="CnBlock"/>; <c>features.{2,4,6}</c> =
/// downsampling (LayerNorm2d, Conv 2×2 stride 2); global average pool; <c>classifier</c> = (.0 LayerNorm2d,
/// .1 Flatten, .2 Linear → classes). Frozen, eval only.
/// </summary>
public sealed class ConvNeXt : nn.Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Sequential classifier;

    public ConvNeXtConfig Config { get; }

    public ConvNeXt(ConvNeXtConfig config) : base("convnext")
    {
        config.Validate();
        Config = config;
        var d = config.Dims;
        double eps = config.LayerNormEps;
        var f = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Sequential(nn.Conv2d(3, d[0], 4, stride: 4), new LayerNorm2d(d[0], eps)),
        };
        for (int s = 0; s < d.Length; s++)
        {
            f.Add(nn.Sequential(Enumerable.Range(0, config.Depths[s]).Select(_ => (nn.Module<Tensor, Tensor>)new CnBlock(d[s], eps)).ToArray()));
            if (s + 1 < d.Length)
                f.Add(nn.Sequential(new LayerNorm2d(d[s], eps), nn.Conv2d(d[s], d[s + 1], 2, stride: 2)));
        }
        features = nn.Sequential(f.ToArray());
        avgpool = nn.AdaptiveAvgPool2d(1);
        classifier = nn.Sequential(new LayerNorm2d(d[^1], eps), nn.Flatten(1), nn.Linear(d[^1], config.NumClasses));
        RegisterComponents();
        WeightFile.Freeze(this);
    }

    /// <summary>x [B,3,H,W] (ImageNet-normalised; H, W multiples of 32 in practice) → logits [B, classes].</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != 3)
            throw new ArgumentException($"ConvNeXt expects [B,3,H,W], got [{string.Join(",", x.shape)}]", nameof(x));
        eval();
        return classifier.forward(avgpool.forward(features.forward(x)));
    }

    /// <summary>Loads a torchvision state dict (e.g. <c>convnext_small-0c510722.pth</c>) by name, frozen.</summary>
    public static ConvNeXt FromFile(string path, ConvNeXtConfig? config = null)
    {
        var net = new ConvNeXt(config ?? ConvNeXtConfig.Small);
        WeightFile.LoadInto(net, WeightFile.Read(path), path);
        return net;
    }
}
