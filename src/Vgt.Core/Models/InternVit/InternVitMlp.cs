using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.InternVit;

/// <summary>fc2(GELU(fc1(x))) with exact (erf) GELU; both Linear with bias. State dict: fc1, fc2.</summary>
public sealed class InternVitMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public InternVitMlp(InternVitConfig config, Device? device = null, Generator? generator = null) : base(nameof(InternVitMlp))
    {
        fc1 = TorchDefaultInit.Linear(config.HiddenSize, config.IntermediateSize, bias: true, device, generator); // init: PyTorch default
        fc2 = TorchDefaultInit.Linear(config.IntermediateSize, config.HiddenSize, bias: true, device, generator);
        RegisterComponents();
    }

    /// <summary>x [B,N,D] → [B,N,D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(nn.functional.gelu(fc1.forward(x))).MoveToOuterDisposeScope();
    }
}
