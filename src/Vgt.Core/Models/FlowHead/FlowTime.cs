using static TorchSharp.torch;

namespace Vgt.Models.FlowHead;

/// <summary>Training-time sampling of the flow time t (reference §8.4; t = 1 is data, t = 0 is noise).</summary>
public static class FlowTime
{
    /// <summary>
    /// The reference time shift 1 − s·t/(1 + (s−1)·t). It also mirrors t → 1−t, so with the symmetric
    /// logit-normal the net effect moves t toward the noise end (s = 1.4: 0.5 ↦ 0.41667).
    /// </summary>
    public static double Shift(double t, double s) => 1.0 - s * t / (1.0 + (s - 1.0) * t);

    /// <inheritdoc cref="Shift(double, double)"/>
    public static Tensor Shift(Tensor t, double s) => 1.0 - s * t / (1.0 + (s - 1.0) * t);

    /// <summary>Logit-normal t from standard-normal draws u: sigmoid(u), then the shift if s is set.</summary>
    public static Tensor FromNormal(Tensor u, double? shift)
    {
        var t = sigmoid(u);
        return shift is { } s ? Shift(t, s) : t;
    }
}
