using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>A parameter-free permutation layer (keeps torchvision's Sequential indices, e.g. ConvNeXt's block.1/block.6).</summary>
public sealed class Permute(params long[] dims) : nn.Module<Tensor, Tensor>("Permute")
{
    public override Tensor forward(Tensor x) => x.permute(dims);
}
