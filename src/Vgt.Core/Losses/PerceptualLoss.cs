using TorchSharp;
using Vgt.Models.Perceptual;
using static TorchSharp.torch;

namespace Vgt.Losses;

/// <summary>
/// The reference perceptual loss (§5.2, <c>PerceptualLoss("lpips-convnext_s-1.0-0.1")</c>), state-dict names
/// <c>lpips.*</c>, <c>convnext.*</c>, <c>imagenet_mean</c>, <c>imagenet_std</c>:
/// (w₁·mean LPIPS(x, x̂) + w₂·MSE(ConvNeXt(x), ConvNeXt(x̂))) / (w₁ + w₂), where ConvNeXt sees both images
/// resized to 224×224 (bilinear, align_corners=False, antialias) and ImageNet-normalised, and the MSE is over the
/// 1000-d logits. With perceptual_weight 1.1 and weights (1.0, 0.1) the generator term is LPIPS + 0.1·ConvNeXt.
/// A single network (weights null) is a plain, unweighted loss. Frozen, eval mode.
/// </summary>
public sealed class PerceptualLoss : nn.Module, IPerceptualLoss
{
    private readonly Lpips? lpips;
    private readonly ConvNeXt? convnext;
    private readonly Tensor imagenet_mean = tensor(new float[] { 0.485f, 0.456f, 0.406f }).view(1, 3, 1, 1);
    private readonly Tensor imagenet_std = tensor(new float[] { 0.229f, 0.224f, 0.225f }).view(1, 3, 1, 1);
    private readonly double? lpipsWeight, convnextWeight;

    /// <summary>ConvNeXt input size.</summary>
    public const int ConvNextSize = 224;

    public PerceptualLoss(Lpips? lpips, ConvNeXt? convnext, double? lpipsWeight = null, double? convnextWeight = null)
        : base("perceptual_loss")
    {
        if (lpips is null && convnext is null) throw new ArgumentException("PerceptualLoss needs LPIPS, ConvNeXt or both.");
        if ((lpipsWeight is null) != (convnextWeight is null) || (lpipsWeight is not null && (lpips is null || convnext is null)))
            throw new ArgumentException("Component weights are given together, and only when both networks are present.");
        this.lpips = lpips;
        this.convnext = convnext;
        this.lpipsWeight = lpipsWeight;
        this.convnextWeight = convnextWeight;
        RegisterComponents();
        WeightFile.Freeze(this);
    }

    /// <summary>Builds the loss a spec names from already-loaded networks (the spec must not be "teacher").</summary>
    public static PerceptualLoss FromSpec(PerceptualLossSpec spec, Lpips? lpips, ConvNeXt? convnext)
    {
        if (spec.Teacher) throw new ArgumentException("'teacher' is a FeaturePerceptualLoss, not a PerceptualLoss.", nameof(spec));
        if (spec.Lpips && lpips is null) throw new ArgumentException("The perceptual loss needs LPIPS weights (vgg16 + vgg.pth).", nameof(lpips));
        if (spec.ConvNext && convnext is null) throw new ArgumentException("The perceptual loss needs ConvNeXt-S weights.", nameof(convnext));
        return new PerceptualLoss(spec.Lpips ? lpips : null, spec.ConvNext ? convnext : null, spec.LpipsWeight, spec.ConvNextWeight);
    }

    public Tensor Loss(Tensor inputs, Tensor reconstructions)
    {
        eval();
        Tensor? lp = lpips?.forward(inputs, reconstructions).mean();
        Tensor? cn = convnext is null ? null
            : nn.functional.mse_loss(ConvNextLogits(inputs), ConvNextLogits(reconstructions));
        if (lp is not null && cn is not null)
        {
            double a = lpipsWeight ?? 1, b = convnextWeight ?? 1;
            return (a * lp + b * cn) / (a + b);
        }
        return (lp ?? cn)!;
    }

    /// <summary>The ConvNeXt input: resize to 224 (bilinear, antialias) and ImageNet-normalise; [B,3,H,W] → [B,3,224,224].</summary>
    public Tensor ConvNextInput(Tensor images01)
    {
        var x = nn.functional.interpolate(images01, [ConvNextSize, ConvNextSize], mode: InterpolationMode.Bilinear,
            align_corners: false, antialias: true);
        return (x - imagenet_mean) / imagenet_std;
    }

    Tensor ConvNextLogits(Tensor images01) => convnext!.forward(ConvNextInput(images01));   // [B,classes]
}
