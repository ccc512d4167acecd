using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// The DC-AE encoder (diffusers <c>AutoencoderDC.encoder</c>); module names are the state-dict names under <c>encoder.</c>.
/// x [B, 3, H, W] → conv_in → down_blocks[0..n−1] → conv_out (+ averaging shortcut) → [B, Cz, H/r, W/r], r = 2^(n−1).
/// down_blocks[i] = layers[i] blocks at C_i (ResBlock: RMSNorm + SiLU; EfficientViT: RMSNorm) + [DownBlock(C_i→C_{i+1}) if i &lt; n−1].
/// If layers[0] = 0, conv_in is a shortcut-less DownBlock(3→C_1) and stage 0 is empty (diffusers' rule).
/// </summary>
public sealed class DcAeEncoder : nn.Module<Tensor, Tensor>
{
    public readonly nn.Module<Tensor, Tensor> conv_in;  // Conv2d weight [C_0, 3, 3, 3] + bias, or DownBlock(3→C_1, no shortcut)
    public readonly ModuleList<Sequential> down_blocks;
    public readonly Conv2d conv_out;                     // weight [Cz, C_{n−1}, 3, 3], bias [Cz]

    public DcAeConfig Config { get; }

    public DcAeEncoder(DcAeConfig config, Device? device = null) : base(nameof(DcAeEncoder))
    {
        config.Validate();
        Config = config;
        var ch = config.EncoderBlockOutChannels;
        var layers = config.EncoderLayersPerBlock;
        int n = ch.Count;
        bool unshuffle = config.PixelUnshuffleDownsampling;

        conv_in = layers[0] > 0
            ? nn.Conv2d(config.InChannels, ch[0], 3, padding: 1, device: device)
            : new DownBlock(config.InChannels, ch[1], unshuffle, shortcut: false, device);
        var stages = new Sequential[n];
        for (int i = 0; i < n; i++)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int j = 0; j < layers[i]; j++)
                blocks.Add(config.EncoderBlockType(i) == "ResBlock"
                    ? new ResBlock(ch[i], "rms_norm", "silu", device)
                    : new EfficientVitBlock(ch[i], config.AttentionHeadDim, config.EncoderQkvMultiscales[i], "rms_norm", device));
            if (i < n - 1 && layers[i] > 0)
                blocks.Add(new DownBlock(ch[i], ch[i + 1], unshuffle, shortcut: true, device));
            stages[i] = nn.Sequential(blocks.ToArray());
        }
        down_blocks = nn.ModuleList(stages);
        conv_out = nn.Conv2d(ch[n - 1], config.LatentChannels, 3, padding: 1, device: device);
        RegisterComponents();
    }

    /// <summary>The input projection (plain conv, or the down block when stage 0 is empty).</summary>
    public Tensor ProjectIn(Tensor x) // x: [B, 3, H, W] -> [B, C_0, H, W] (or [B, C_1, H/2, W/2])
    {
        CheckImage(x);
        using var scope = NewDisposeScope();
        return conv_in.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>Runs down_blocks[stage] (its layers, then its down block).</summary>
    public Tensor RunStage(int stage, Tensor x)
    {
        var h = x;
        foreach (var block in down_blocks[stage].children().Cast<nn.Module<Tensor, Tensor>>())
        {
            var next = block.forward(h);
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }

    /// <summary>conv_out plus, when encoder_out_shortcut, the mean over consecutive groups of C_{n−1}/Cz channels.</summary>
    public Tensor ProjectOut(Tensor x) // x: [B, C_{n−1}, h, w] -> [B, Cz, h, w]
    {
        using var scope = NewDisposeScope();
        var y = conv_out.forward(x);
        if (Config.EncoderOutShortcut)
        {
            long group = x.shape[1] / Config.LatentChannels;
            y = y + x.reshape(x.shape[0], -1, group, x.shape[2], x.shape[3]).mean([2]);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads diffusers-named weights (<c>encoder.…</c>; other keys are ignored) after checking every name and shape,
    /// so a checkpoint of another variant is refused with a diagnosis (<see cref="DcAeCheckpointShapes.CheckEncoder"/>).
    /// </summary>
    public void LoadDiffusersState(IReadOnlyDictionary<string, Tensor> checkpoint, string prefix = "encoder.")
    {
        DcAeCheckpointShapes.CheckEncoder(Config, DcAeCheckpointShapes.ShapesOf(checkpoint), prefix);
        DcAeCheckpointShapes.CopyInto(this, checkpoint, prefix);
    }

    public override Tensor forward(Tensor x) // x: [B, 3, H, W] -> [B, Cz, H/r, W/r]
    {
        var h = ProjectIn(x);
        for (int i = 0; i < down_blocks.Count; i++)
        {
            var next = RunStage(i, h);
            h.Dispose();
            h = next;
        }
        var z = ProjectOut(h);
        h.Dispose();
        return z;
    }

    void CheckImage(Tensor x)
    {
        int r = Config.SpatialCompressionRatioEncoder;
        if (x.dim() != 4 || x.shape[1] != Config.InChannels || x.shape[2] % r != 0 || x.shape[3] % r != 0)
            throw new ArgumentException(
                $"DC-AE encoder expects an image [B, {Config.InChannels}, H, W] with H and W multiples of {r}, got [{string.Join(", ", x.shape)}].");
    }
}
