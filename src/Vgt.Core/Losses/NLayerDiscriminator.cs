using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// The patch discriminator of VGT-AE (reference §5.3, <c>NLayerDiscriminator</c>). State-dict names:
/// <c>block_in.0.*</c> (Conv2dSame k5), <c>blocks.{i}.0.*</c> (Conv2dSame k3), <c>blocks.{i}.1.kernel</c> (blur),
/// <c>blocks.{i}.2.*</c> (GroupNorm), <c>to_logits.0.*</c> (k1), <c>to_logits.2.*</c> (k5).
/// forward: block_in (conv → LeakyReLU 0.1) → each stage (conv → ↓2 → GroupNorm → LeakyReLU 0.1) →
/// AdaptiveMaxPool2d(pool) → conv 1×1 → LeakyReLU → conv 5×5 to one channel: patch logits [B,1,pool,pool].
/// </summary>
public sealed class NLayerDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential block_in;
    private readonly ModuleList<Sequential> blocks;
    private readonly AdaptiveMaxPool2d pool;
    private readonly Sequential to_logits;

    public DiscriminatorConfig Config { get; }

    public NLayerDiscriminator(DiscriminatorConfig config, Generator? generator = null) : base("discriminator")
    {
        config.Validate();
        Config = config;
        const double slope = 0.1;
        block_in = nn.Sequential(new Conv2dSame(config.InChannels, config.HiddenChannels, 5, generator: generator), nn.LeakyReLU(slope));
        blocks = new ModuleList<Sequential>();
        long cin = config.HiddenChannels;
        foreach (var cout in config.StageChannels)
        {
            nn.Module<Tensor, Tensor> down = config.BlurResample
                ? new BlurBlock(BlurBlock.Taps(config.BlurKernelSize))
                : nn.AvgPool2d(2, 2);
            blocks.Add(nn.Sequential(
                new Conv2dSame(cin, cout, 3, generator: generator),
                down,
                GroupNorm(config.GroupNormGroups, cout),
                nn.LeakyReLU(slope)));
            cin = cout;
        }
        pool = nn.AdaptiveMaxPool2d([config.PoolSize, config.PoolSize]);
        to_logits = nn.Sequential(
            new Conv2dSame(cin, cin, 1, generator: generator),
            nn.LeakyReLU(slope),
            new Conv2dSame(cin, 1, 5, generator: generator));
        RegisterComponents();
    }

    /// <summary>
    /// GroupNorm (eps 1e‑5) with PyTorch's init, weight 1 and bias 0. TorchSharp 0.107's nn.GroupNorm leaves its
    /// affine parameters uninitialised (arbitrary memory), so they are set here explicitly.
    /// </summary>
    static GroupNorm GroupNorm(int groups, long channels)
    {
        var gn = nn.GroupNorm(groups, channels);
        using var _ = no_grad();
        gn.weight!.fill_(1);
        gn.bias!.zero_();
        return gn;
    }

    /// <summary>x [B,in,H,W] (the loss feeds [0,1] images) → logits [B,1,pool,pool].</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"discriminator expects [B,{Config.InChannels},H,W], got [{string.Join(",", x.shape)}]", nameof(x));
        var h = block_in.forward(x);                       // [B,hidden,H,W]
        foreach (var block in blocks) h = block.forward(h); // [B,hidden·2^(k),H/2^(k+1),W/2^(k+1)]
        return to_logits.forward(pool.forward(h));         // [B,1,pool,pool]
    }
}
