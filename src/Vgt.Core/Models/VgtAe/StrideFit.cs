using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.VgtAe;

/// <summary>How an image whose sides are not multiples of the AE stride is made to fit.</summary>
public enum StrideFitMode
{
    /// <summary>Centre-crop each side down to the largest multiple of the stride (the output is the cropped size).</summary>
    Crop,

    /// <summary>Pad each side up to the next multiple by repeating the edge pixels, centred; the output is cropped back to the input size.</summary>
    Pad,
}

/// <summary>A fitted image and where the original lies inside it.</summary>
public sealed record StrideFitResult(Tensor Image, int Top, int Left, int Height, int Width, string Description);

/// <summary>Crops or pads images [3,H,W] / [B,3,H,W] to multiples of the stride, and says what it did.</summary>
public static class StrideFit
{
    public static StrideFitResult Fit(Tensor image, int stride, StrideFitMode mode)
    {
        if (stride < 1) throw new ArgumentException($"stride must be >= 1, got {stride}");
        if (image.dim() is not (3 or 4)) throw new ArgumentException($"expected [3,H,W] or [B,3,H,W], got [{string.Join(", ", image.shape)}]");
        int h = (int)image.shape[^2], w = (int)image.shape[^1];
        if (h % stride == 0 && w % stride == 0)
            return new(image.alias(), 0, 0, h, w, $"{w}×{h} is a multiple of the stride {stride}: used as is");
        using var scope = NewDisposeScope();
        if (mode == StrideFitMode.Crop)
        {
            int ch = h / stride * stride, cw = w / stride * stride;
            if (ch == 0 || cw == 0)
                throw new ArgumentException($"image {w}×{h} is smaller than the stride {stride}: cannot centre-crop it; use padding");
            int top = (h - ch) / 2, left = (w - cw) / 2;
            var cropped = image.narrow(-2, top, ch).narrow(-1, left, cw).contiguous();
            return new(cropped.MoveToOuterDisposeScope(), 0, 0, ch, cw,
                $"{w}×{h} is not a multiple of the stride {stride}: centre-cropped to {cw}×{ch}");
        }
        int ph = (h + stride - 1) / stride * stride, pw = (w + stride - 1) / stride * stride;
        int padTop = (ph - h) / 2, padLeft = (pw - w) / 2;
        var batched = image.dim() == 3 ? image.unsqueeze(0) : image;
        var padded = nn.functional.pad(batched, [padLeft, pw - w - padLeft, padTop, ph - h - padTop], PaddingModes.Replicate);
        if (image.dim() == 3) padded = padded.squeeze(0);
        return new(padded.MoveToOuterDisposeScope(), padTop, padLeft, h, w,
            $"{w}×{h} is not a multiple of the stride {stride}: edge-padded to {pw}×{ph}, output cropped back to {w}×{h}");
    }

    /// <summary>Undoes <see cref="StrideFitMode.Pad"/> on a reconstruction of the fitted image (identity for crop).</summary>
    public static Tensor Restore(Tensor fittedOutput, StrideFitResult fit) =>
        fittedOutput.narrow(-2, fit.Top, fit.Height).narrow(-1, fit.Left, fit.Width).contiguous();
}
