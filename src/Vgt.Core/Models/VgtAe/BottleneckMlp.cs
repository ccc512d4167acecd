using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Vgt.Models.VgtAe;

/// <summary>
/// The reference's `build_mlp`: [0] LayerNorm(D_in) → [1] Linear(D_in→D_out) → [2] GELU (exact) → [3] Linear(D_out→D_out).
/// Children are named "0".."3" so the state dict reads `…0.weight`, `…1.weight`, `…3.weight` like the checkpoint.
/// Init (vgt-reference §4.1): Linear weights ~ trunc_normal(0, 0.02, bounds ±2), biases 0; LayerNorm weight 1, bias 0.
/// </summary>
public sealed class BottleneckMlp : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "0")] private readonly LayerNorm norm;    // [D_in]
    [ComponentName(Name = "1")] private readonly Linear fc1;        // [D_out, D_in]
    [ComponentName(Name = "2")] private readonly GELU act;
    [ComponentName(Name = "3")] private readonly Linear fc2;        // [D_out, D_out]

    public BottleneckMlp(long inputSize, long outputSize, double layerNormEps, Device? device = null, Generator? generator = null)
        : base(nameof(BottleneckMlp))
    {
        norm = nn.LayerNorm(inputSize, layerNormEps, device: device);
        fc1 = nn.Linear(inputSize, outputSize, device: device);
        act = nn.GELU();
        fc2 = nn.Linear(outputSize, outputSize, device: device);
        AeInit.TruncNormalLinear(fc1, generator);
        AeInit.TruncNormalLinear(fc2, generator);
        RegisterComponents();
    }

    /// <summary>x [..., D_in] → [..., D_out].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(act.forward(fc1.forward(norm.forward(x)))).MoveToOuterDisposeScope();
    }
}

/// <summary>Residual MLP block of the bottleneck (`down_blocks.{i}`): x + mlp(x), mlp = <see cref="BottleneckMlp"/>(D→D, LN eps 1e−6).</summary>
public sealed class ResidualMlpBlock : nn.Module<Tensor, Tensor>
{
    private readonly BottleneckMlp mlp;

    public ResidualMlpBlock(long size, Device? device = null, Generator? generator = null) : base(nameof(ResidualMlpBlock))
    {
        mlp = new BottleneckMlp(size, size, 1e-6, device, generator);
        RegisterComponents();
    }

    /// <summary>x [B, L, D] → [B, L, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (x + mlp.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>Initialisers of the AE's new modules, driven by an explicit generator so a seed reproduces them.</summary>
public static class AeInit
{
    /// <summary>weight ~ N(0, 0.02²) truncated to ±2 (absolute, as timm's trunc_normal_, by redrawing), bias = 0.</summary>
    public static void TruncNormalLinear(Linear layer, Generator? generator, double std = 0.02)
    {
        using var _ = no_grad();
        Common.Init.TruncatedNormal(layer.weight!, std, -2, 2, generator);
        layer.bias?.zero_();
    }
}
