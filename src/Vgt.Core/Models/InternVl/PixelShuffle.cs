using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>
/// InternVL's pixel shuffle (space-to-depth), backbones.md §3.4, with the exact view/permute sequence of the
/// reference. For k = 2 and v2, output cell (i, j) is the concatenation of input cells (2i,2j), (2i,2j+1),
/// (2i+1,2j), (2i+1,2j+1), each contributing its C channels contiguously.
/// </summary>
public static class PixelShuffle
{
    /// <summary>x [B, rows, cols, C] → [B, rows/k, cols/k, C·k²] for v2 ([B, cols/k, rows/k, C·k²] for v1), k = 1/ratio.</summary>
    public static Tensor Apply(Tensor x, double downsampleRatio, PixelShuffleVersion version = PixelShuffleVersion.V2)
    {
        if (x.dim() != 4) throw new ArgumentException($"pixel shuffle expects [B, rows, cols, C], got [{string.Join(",", x.shape)}]");
        double inv = 1.0 / downsampleRatio;
        long k = (long)Math.Round(inv);
        if (downsampleRatio <= 0 || k < 1 || Math.Abs(inv - k) > 1e-9)
            throw new ArgumentException($"downsample_ratio must be 1/k for a whole k >= 1, got {downsampleRatio}");
        long n = x.shape[0], rows = x.shape[1], cols = x.shape[2], c = x.shape[3];
        if (rows % k != 0 || cols % k != 0)
            throw new ArgumentException($"the grid {rows}x{cols} is not divisible by the shuffle factor {k}");
        using var scope = NewDisposeScope();
        var y = x.reshape(n, rows, cols / k, c * k)          // merge k adjacent columns into channels
                 .permute(0, 2, 1, 3).contiguous()            // [B, cols/k, rows, C·k]
                 .view(n, cols / k, rows / k, c * k * k);     // merge k adjacent rows
        if (version == PixelShuffleVersion.V2) y = y.permute(0, 2, 1, 3).contiguous();   // back to [B, rows/k, cols/k, C·k²]
        return y.MoveToOuterDisposeScope();
    }
}
