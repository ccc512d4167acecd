using TorchSharp;
using Vgt.Models.FlowHead;
using static TorchSharp.torch;

namespace Vgt.Tests.FlowHead;

/// <summary>
/// Reads the fixtures written by tools/fixtures/make_flowhead_fixtures.py. Read with the project's safetensors reader (see Parity).
/// </summary>
internal static class FlowHeadFixtures
{
    /// <summary>The small configuration of the fixture script.</summary>
    public static readonly FlowHeadConfig Config = new()
    {
        InputDim = 32, CondDim = 24, Width = 64, Depth = 4, MlpRatio = 1.5, FreqDim = 256, Timeshift = 1.4,
        Repa = new RepaConfig { FeatureDim = 20, Depth = 2, ProjectorDim = 48 },
    };

    public static Dictionary<string, Tensor> Load(string name) => Parity.Load("flowhead", name + ".safetensors").Tensors;

    /// <summary>The fixture head (non-zero adaLN weights), loaded strictly: every name must match.</summary>
    public static FlowMatchingHead LoadHead()
    {
        var head = new FlowMatchingHead(Config);
        var weights = Load("head_weights");
        var (missing, unexpected) = head.load_state_dict(weights, strict: false);
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidOperationException($"state-dict mismatch: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]");
        head.eval();
        return head;
    }

    public static double RelErr(Tensor actual, Tensor expected) => Parity.RelErr(actual, expected);

    public const double Tolerance = Parity.Tolerance;

    /// <summary>Same shape and bit-identical values.</summary>
    public static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
