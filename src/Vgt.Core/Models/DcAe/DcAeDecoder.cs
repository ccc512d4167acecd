using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>
/// The DC-AE decoder (diffusers <c>AutoencoderDC.decoder</c>); module names are the state-dict names under <c>decoder.</c>.
/// z [B, Cz, h, w] → conv_in (+ channel-duplicating shortcut) → up_blocks[n−1], …, up_blocks[0] → norm_out → act →
/// conv_out → [B, 3, 2^(n−1)·h, 2^(n−1)·w]. up_blocks[i] = [UpBlock(C_{i+1}→C_i) if i &lt; n−1] + layers[i] blocks at C_i.
/// If layers[0] = 0, stage 0 is empty and conv_out is a shortcut-less UpBlock (diffusers' rule).
/// Pure: no latent scaling and no final resize (VGT's resize to stride 28 is <see cref="DecodedImageResize"/>).
/// </summary>
public sealed class DcAeDecoder : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv_in;                   // weight [C_{n−1}, Cz, 3, 3], bias [C_{n−1}]
    public readonly ModuleList<Sequential> up_blocks; // stage i at index i; executed from n−1 down to 0
    public readonly RmsNorm2d norm_out;               // [C_0] (or [C_1] when layers[0] = 0), weight 1, bias 0
    public readonly nn.Module<Tensor, Tensor> conv_out; // Conv2d weight [3, C_0, 3, 3] + bias, or UpBlock(C_1→3, no shortcut)
    readonly nn.Module<Tensor, Tensor> conv_act;      // decoder_conv_act_fn, no parameters

    public DcAeConfig Config { get; }

    public DcAeDecoder(DcAeConfig config, Device? device = null) : base(nameof(DcAeDecoder))
    {
        config.Validate();
        Config = config;
        var ch = config.DecoderBlockOutChannels;
        var layers = config.DecoderLayersPerBlock;
        int n = ch.Count;

        conv_in = nn.Conv2d(config.LatentChannels, ch[n - 1], 3, padding: 1, device: device);
        var stages = new Sequential[n];
        for (int i = n - 1; i >= 0; i--)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            if (i < n - 1 && layers[i] > 0)
                blocks.Add(new UpBlock(ch[i + 1], ch[i], config.InterpolateUpsampling, shortcut: true, device));
            for (int j = 0; j < layers[i]; j++)
                blocks.Add(config.DecoderBlockType(i) == "ResBlock"
                    ? new ResBlock(ch[i], config.DecoderNormType(i), config.DecoderActFn(i), device)
                    : new EfficientVitBlock(ch[i], config.AttentionHeadDim, config.DecoderQkvMultiscales[i], config.DecoderNormType(i), device));
            stages[i] = nn.Sequential(blocks.ToArray());
        }
        up_blocks = nn.ModuleList(stages);

        long outCh = layers[0] > 0 ? ch[0] : ch[1];
        norm_out = new RmsNorm2d(outCh, 1e-5, device);
        conv_act = DcAeLayers.Activation(config.DecoderConvActFn);
        conv_out = layers[0] > 0
            ? nn.Conv2d(outCh, config.InChannels, 3, padding: 1, device: device)
            : new UpBlock(outCh, config.InChannels, config.InterpolateUpsampling, shortcut: false, device);
        RegisterComponents();
    }

    /// <summary>conv_in plus the duplicating shortcut: channel k adds latent channel ⌊k / (C_{n−1}/Cz)⌋.</summary>
    public Tensor ProjectIn(Tensor z) // z: [B, Cz, h, w] -> [B, C_{n−1}, h, w]
    {
        CheckLatent(z);
        using var scope = NewDisposeScope();
        var x = conv_in.forward(z);
        if (Config.DecoderInShortcut)
            x = x + z.repeat_interleave(x.shape[1] / z.shape[1], dim: 1);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Runs up_blocks[stage] (its up block, then its layers).</summary>
    public Tensor RunStage(int stage, Tensor x) // x: [B, C_{stage+1}, H, W] -> [B, C_stage, 2H, 2W] (same size for the last stage)
    {
        var h = x;
        foreach (var block in up_blocks[stage].children().Cast<nn.Module<Tensor, Tensor>>())
        {
            var next = block.forward(h);
            if (!ReferenceEquals(h, x)) h.Dispose(); // free each full-resolution map as soon as it is consumed
            h = next;
        }
        return ReferenceEquals(h, x) ? x.alias() : h;
    }

    /// <summary>norm_out → activation → conv_out.</summary>
    public Tensor ProjectOut(Tensor x) // x: [B, C_0, H, W] -> [B, 3, H, W] (×2 when conv_out is an up block)
    {
        using var scope = NewDisposeScope();
        return conv_out.forward(conv_act.forward(norm_out.forward(x))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads diffusers-named weights (<c>decoder.…</c>; other keys are ignored) after checking every name and shape,
    /// so a checkpoint of another variant is refused with a diagnosis (<see cref="DcAeCheckpointShapes.CheckDecoder"/>).
    /// </summary>
    public void LoadDiffusersState(IReadOnlyDictionary<string, Tensor> checkpoint, string prefix = "decoder.")
    {
        DcAeCheckpointShapes.CheckDecoder(Config, DcAeCheckpointShapes.ShapesOf(checkpoint), prefix);
        DcAeCheckpointShapes.CopyInto(this, checkpoint, prefix);
    }

    public override Tensor forward(Tensor z) // z: [B, Cz, h, w] -> [B, 3, r·h, r·w], r = 2^(n−1)
    {
        var x = ProjectIn(z);
        for (int i = up_blocks.Count - 1; i >= 0; i--)
        {
            var next = RunStage(i, x);
            x.Dispose();
            x = next;
        }
        var y = ProjectOut(x);
        x.Dispose();
        return y;
    }

    void CheckLatent(Tensor z)
    {
        if (z.dim() != 4 || z.shape[1] != Config.LatentChannels)
            throw new ArgumentException(
                $"DC-AE decoder expects a latent [B, {Config.LatentChannels}, h, w], got [{string.Join(", ", z.shape)}].");
    }
}
