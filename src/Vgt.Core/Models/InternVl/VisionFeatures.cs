using TorchSharp;
using Vgt.Models.InternVit;
using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>
/// InternVL's extract_feature (backbones.md §3.4): run the vision tower to select_layer, drop the class token, lay the
/// patches out as [B, rows, cols, D], pixel-shuffle, flatten row-major and project with mlp1. Also what VGT-AE's
/// encoder does before its bottleneck (with its own module names around the same two modules).
/// </summary>
public static class VisionFeatures
{
    /// <summary>pixels [B,C,H,W] (normalised) → image tokens [B, (H/p/k)·(W/p/k), D_llm].</summary>
    public static Tensor Extract(InternVisionModel vision, VisionProjector mlp1, InternVlConfig config, Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var hidden = vision.Forward(pixels, config.VisionLayersToRun);     // [B,1+rows·cols,Dv]
        var grid = ToGrid(hidden, vision.Config.PatchSize, pixels.shape[2], pixels.shape[3]);
        var shuffled = PixelShuffle.Apply(grid, config.DownsampleRatio, config.PsVersion);   // [B,rows/k,cols/k,Dv·k²]
        var tokens = shuffled.flatten(1, 2);                                                // [B,N',Dv·k²]
        return mlp1.forward(tokens).MoveToOuterDisposeScope();
    }

    /// <summary>Drops the class token: [B, 1+rows·cols, D] → [B, rows, cols, D] (rows = H/p, cols = W/p).</summary>
    public static Tensor ToGrid(Tensor hidden, int patchSize, long height, long width)
    {
        long rows = height / patchSize, cols = width / patchSize;
        if (hidden.dim() != 3 || hidden.shape[1] != 1 + rows * cols)
            throw new ArgumentException($"expected [B, 1 + {rows}·{cols}, D] vision tokens, got [{string.Join(",", hidden.shape)}]");
        return hidden.narrow(1, 1, rows * cols).reshape(hidden.shape[0], rows, cols, hidden.shape[2]);
    }
}
