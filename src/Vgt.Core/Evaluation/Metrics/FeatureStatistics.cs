using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Evaluation.Metrics;

/// <summary>
/// Streaming first and second moments of feature vectors in fp64 (as the reference evaluator): N, Σf, Σffᵀ.
/// Mean = Σf/N; covariance = (Σffᵀ − (Σf)(Σf)ᵀ/N)/(N − 1).
/// </summary>
public sealed class FeatureStatistics : IDisposable
{
    private Tensor? sum;       // [D]
    private Tensor? sumOuter;    // [D,D]

    public long Count { get; private set; }
    public long Dim => sum?.shape[0] ?? 0;

    /// <summary>Adds features [N, D] (any float dtype; accumulated in fp64).</summary>
    public void Add(Tensor features)
    {
        if (features.dim() != 2) throw new ArgumentException($"features must be [N, D], got [{string.Join(",", features.shape)}]", nameof(features));
        if (sum is not null && features.shape[1] != sum.shape[0])
            throw new ArgumentException($"feature width {features.shape[1]} differs from the earlier {sum.shape[0]}", nameof(features));
        using var _ = no_grad();
        var f = features.detach().to(float64).cpu();
        sum ??= zeros(f.shape[1], dtype: float64).DetachFromDisposeScope();
        sumOuter ??= zeros(f.shape[1], f.shape[1], dtype: float64).DetachFromDisposeScope();
        sum.add_(f.sum([0]));                   // [D] (an int literal 0 would bind to the dtype overload)
        sumOuter.add_(f.t().matmul(f));
        Count += f.shape[0];
    }

    public Tensor Mean()
    {
        Require(1);
        return sum! / Count;
    }

    public Tensor Covariance()
    {
        Require(2);
        return (sumOuter! - torch.outer(sum!, sum!) / Count) / (Count - 1);
    }

    void Require(long n)
    {
        if (Count < n) throw new InvalidOperationException($"need at least {n} feature vectors, have {Count}");
    }

    public void Reset()
    {
        sum?.Dispose(); sumOuter?.Dispose();
        sum = sumOuter = null;
        Count = 0;
    }

    public void Dispose() => Reset();
}
