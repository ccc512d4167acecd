using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.Qwen2;

/// <summary>SwiGLU MLP: down_proj(SiLU(gate_proj(x)) ⊙ up_proj(x)), no biases. State dict: gate_proj, up_proj, down_proj.</summary>
public sealed class Qwen2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear gate_proj;
    private readonly Linear up_proj;
    private readonly Linear down_proj;

    public Qwen2Mlp(Qwen2Config config, Device? device = null, Generator? generator = null) : base(nameof(Qwen2Mlp))
    {
        long d = config.HiddenSize, i = config.IntermediateSize;
        // init: weights ~ N(0, initializer_range)
        gate_proj = Qwen2Init.Linear(d, i, bias: false, config.InitializerRange, device, generator);
        up_proj = Qwen2Init.Linear(d, i, bias: false, config.InitializerRange, device, generator);
        down_proj = Qwen2Init.Linear(i, d, bias: false, config.InitializerRange, device, generator);
        RegisterComponents();
    }

    /// <summary>x [B,T,D] → [B,T,D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x);   // [B,T,I]
        return down_proj.forward(h).MoveToOuterDisposeScope();
    }
}
