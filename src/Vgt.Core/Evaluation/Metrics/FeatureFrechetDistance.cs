using Vgt.Models.Perceptual;
using static TorchSharp.torch;

namespace Vgt.Evaluation.Metrics;

/// <summary>
/// Fréchet distance between real and reconstructed images in the feature space of any
/// <see cref="IFeatureExtractor"/>. Its label is "FD-{extractor name}" (e.g. "FD-teacher"), never "rFID": only the
/// pytorch-fid Inception weights give numbers comparable with published rFID (see <see cref="Rfid"/>).
/// Token features [B,N,D] are mean-pooled over tokens to [B,D].
/// </summary>
public class FeatureFrechetDistance : IDisposable
{
    private readonly FeatureStatistics real = new(), fake = new();

    public IFeatureExtractor Extractor { get; }

    public virtual string Label => "FD-" + Extractor.Name;

    public long Count => real.Count;

    public FeatureFrechetDistance(IFeatureExtractor extractor) => Extractor = extractor;

    /// <summary>real, fake [B,3,H,W] in [0,1].</summary>
    public void Update(Tensor realImages, Tensor fakeImages)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        real.Add(Pool(Extractor.Features(realImages)));
        fake.Add(Pool(Extractor.Features(fakeImages)));
    }

    public double Compute() => FrechetDistance.Compute(real, fake);

    public void Reset() { real.Reset(); fake.Reset(); }

    public void Dispose() { real.Dispose(); fake.Dispose(); GC.SuppressFinalize(this); }

    static Tensor Pool(Tensor f) => f.dim() switch
    {
        2 => f,
        3 => f.mean([1]),
        _ => throw new ArgumentException($"features must be [B,D] or [B,N,D], got [{string.Join(",", f.shape)}]"),
    };
}
