using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using Vgt.Models.InternVit;
using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>
/// mlp1: [0] LayerNorm(D_in, eps 1e-5) → [1] Linear(D_in→D_llm) → [2] GELU (exact) → [3] Linear(D_llm→D_llm).
/// Children are registered under the names "0".."3", so the state dict reads mlp1.0.*, mlp1.1.*, mlp1.3.* like the checkpoint.
/// </summary>
public sealed class VisionProjector : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "0")] private readonly LayerNorm norm;
    [ComponentName(Name = "1")] private readonly Linear linear1;
    [ComponentName(Name = "2")] private readonly GELU act;
    [ComponentName(Name = "3")] private readonly Linear linear2;

    public VisionProjector(long inputSize, long outputSize, double layerNormEps = 1e-5, Device? device = null, Generator? generator = null)
        : base(nameof(VisionProjector))
    {
        norm = nn.LayerNorm(inputSize, layerNormEps, device: device);                                                // init: weight 1, bias 0
        linear1 = TorchDefaultInit.Linear(inputSize, outputSize, bias: true, device, generator);  // init: PyTorch default
        act = nn.GELU();
        linear2 = TorchDefaultInit.Linear(outputSize, outputSize, bias: true, device, generator);
        RegisterComponents();
    }

    public VisionProjector(InternVlConfig config, Device? device = null, Generator? generator = null)
        : this(config.ProjectorInputSize, config.Llm.HiddenSize, config.Projector.LayerNormEps, device, generator)
    {
    }

    /// <summary>x [..., D_in] → [..., D_llm].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return linear2.forward(act.forward(linear1.forward(norm.forward(x)))).MoveToOuterDisposeScope();
    }
}
