using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>The reference initialisations, drawing from an optional generator (null = torch's global RNG).</summary>
internal static class ParamInit
{
    /// <summary>xavier_uniform on the weight (U(−a, a), a = √(6/(fan_in+fan_out))), bias 0.</summary>
    public static void XavierLinear(Linear lin, Generator? generator)
    {
        using var _ = no_grad();
        var w = lin.weight!;                     // [out, in]
        double a = Math.Sqrt(6.0 / (w.shape[0] + w.shape[1]));
        w.uniform_(-a, a, generator);
        lin.bias?.zero_();
    }

    /// <summary>Weight and bias 0 (adaLN-zero).</summary>
    public static void ZeroLinear(Linear lin)
    {
        using var _ = no_grad();
        lin.weight!.zero_();
        lin.bias?.zero_();
    }
}
