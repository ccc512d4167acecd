using Vgt.Imaging;
using Vgt.Models.VgtAe;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>What <see cref="ReconstructPipeline.Run"/> did.</summary>
public sealed record ReconstructResult(string Output, int InputWidth, int InputHeight, int OutputWidth, int OutputHeight,
    long[] LatentShape, string Fit, double Psnr);

/// <summary>
/// `vgt reconstruct`: load an image, fit it to the AE stride (centre crop or edge padding, stated in the result), encode,
/// decode, undo the padding, clamp and save. PSNR is against the fitted input.
/// </summary>
public static class ReconstructPipeline
{
    public static ReconstructResult Run(LatentAutoencoder ae, string input, string output, StrideFitMode fit)
    {
        using var scope = NewDisposeScope();
        var image = ImageFile.Load(input);                                   // [3,H,W] in [−1,1]
        int h = (int)image.shape[1], w = (int)image.shape[2];
        var fitted = StrideFit.Fit(image, ae.Stride, fit);
        var batch = fitted.Image.unsqueeze(0);
        ae.eval();
        Tensor rec;
        long[] latentShape;
        using (no_grad())
        {
            var z = ae.Encode(batch).Latent;
            latentShape = z.shape;
            rec = ae.Decode(z).clamp(-1, 1);
        }
        var restored = StrideFit.Restore(rec, fitted)[0];                    // [3,h',w']
        var reference = StrideFit.Restore(batch, fitted)[0];
        double mse = ((restored - reference) / 2).square().mean().item<float>();
        ImageFile.Save(restored, output);
        return new ReconstructResult(output, w, h, (int)restored.shape[2], (int)restored.shape[1], latentShape, fitted.Description,
            10 * Math.Log10(1 / Math.Max(mse, 1e-20)));
    }
}
