using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.InternVit;

/// <summary>
/// Patch embedding + class token + position embeddings (backbones.md §3.2). State dict: class_embedding [1,1,D],
/// patch_embedding.{weight [D,C,p,p], bias [D]} (Conv2d, stride = patch), position_embedding [1, g²+1, D] with g the
/// trained grid. The grid part of the position table is bicubically resized (align_corners = false, in fp32) to the
/// actual patch grid; the class entry is used as is.
/// </summary>
public sealed class InternVitEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Parameter class_embedding;
    private readonly Conv2d patch_embedding;
    private readonly Parameter position_embedding;
    private readonly InternVitConfig config;

    public InternVitEmbeddings(InternVitConfig config, Device? device = null, Generator? generator = null) : base(nameof(InternVitEmbeddings))
    {
        this.config = config;
        long d = config.HiddenSize, positions = (long)config.TrainedGrid * config.TrainedGrid + 1;
        class_embedding = new Parameter(randn([1, 1, d], device: device, generator: generator));               // init: N(0, 1)
        patch_embedding = TorchDefaultInit.Apply(                                                              // init: PyTorch default
            nn.Conv2d(config.NumChannels, d, config.PatchSize, stride: config.PatchSize, bias: true, device: device), generator);
        position_embedding = new Parameter(randn([1, positions, d], device: device, generator: generator));    // init: N(0, 1)
        RegisterComponents();
    }

    /// <summary>pixels [B,C,H,W] (H, W multiples of the patch) → [B, 1 + (H/p)(W/p), D], class token first, patches row-major.</summary>
    public override Tensor forward(Tensor pixels)
    {
        int p = config.PatchSize;
        if (pixels.dim() != 4 || pixels.shape[1] != config.NumChannels)
            throw new ArgumentException($"pixel_values must be [B,{config.NumChannels},H,W], got [{string.Join(",", pixels.shape)}]");
        if (pixels.shape[2] < p || pixels.shape[3] < p || pixels.shape[2] % p != 0 || pixels.shape[3] % p != 0)
            throw new ArgumentException($"image height and width must be positive multiples of the patch size {p}, got {pixels.shape[2]}x{pixels.shape[3]}");
        using var scope = NewDisposeScope();
        var dtype = patch_embedding.weight!.dtype;
        var patches = patch_embedding.forward(pixels.to_type(dtype));            // [B,D,gh,gw]
        long b = patches.shape[0], gh = patches.shape[2], gw = patches.shape[3];
        var tokens = patches.flatten(2).transpose(1, 2);                         // [B,gh·gw,D]
        var cls = class_embedding.to_type(dtype).expand(b, 1, -1);               // [B,1,D]
        var x = cat([cls, tokens], 1);                                           // [B,1+gh·gw,D]
        return (x + PositionTable(gh, gw).to_type(dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>The position table for a gh × gw grid: [1, 1 + gh·gw, D].</summary>
    public Tensor PositionTable(long gh, long gw)
    {
        int g = config.TrainedGrid;
        if (gh == g && gw == g) return position_embedding.alias();               // bicubic at scale 1 is the identity
        using var scope = NewDisposeScope();
        long d = config.HiddenSize;
        var cls = position_embedding.narrow(1, 0, 1);                                                        // [1,1,D]
        var grid = position_embedding.narrow(1, 1, (long)g * g).to_type(ScalarType.Float32)
            .reshape(1, g, g, d).permute(0, 3, 1, 2);                                                        // [1,D,g,g]
        var resized = nn.functional.interpolate(grid, size: [gh, gw], mode: InterpolationMode.Bicubic, align_corners: false);
        var flat = resized.reshape(1, d, gh * gw).permute(0, 2, 1).to_type(position_embedding.dtype);       // [1,gh·gw,D]
        return cat([cls, flat], 1).MoveToOuterDisposeScope();
    }
}
