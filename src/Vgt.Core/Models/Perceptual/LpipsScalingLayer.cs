using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>(v − shift) / scale with shift (−0.030, −0.088, −0.188), scale (0.458, 0.448, 0.450); buffers [1,3,1,1].</summary>
public sealed class LpipsScalingLayer : nn.Module<Tensor, Tensor>
{
    private readonly Tensor shift = tensor(new float[] { -0.030f, -0.088f, -0.188f }).view(1, 3, 1, 1);
    private readonly Tensor scale = tensor(new float[] { 0.458f, 0.448f, 0.450f }).view(1, 3, 1, 1);

    public LpipsScalingLayer() : base("scaling_layer") => RegisterComponents();

    public override Tensor forward(Tensor x) => (x - shift) / scale;
}
