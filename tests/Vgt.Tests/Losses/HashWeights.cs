using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Tests.Losses;

/// <summary>
/// Deterministic "hash weights" shared with tools/fixtures/make_loss_fixtures.py (hash_value / fill_hash): every
/// parameter and BatchNorm running statistic is an exact integer-hash function of its state-dict name and element
/// index, so large networks (VGG16, ConvNeXt-S, Inception-v3, the real discriminator) get bit-identical weights in
/// PyTorch and TorchSharp without storing them. A wrong state-dict name gives different weights.
/// </summary>
internal static class HashWeights
{
    const ulong Mask = 0xFFFFFFFFUL;

    public static long Fnv1a(string name)
    {
        uint h = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(name)) { h ^= b; h *= 16777619; }
        return h;
    }

    /// <summary>n values in (0,1): exact integer hash of (index, seed), as hash_uniform in the script.</summary>
    public static double[] Uniform(long n, long seed)
    {
        var u = new double[n];
        for (long i = 0; i < n; i++)
        {
            ulong x = ((ulong)i * 2654435761UL + (ulong)seed) & Mask;
            for (int r = 0; r < 2; r++)
            {
                x ^= x >> 16;
                x = (x * 73244475UL) & Mask;
            }
            x ^= x >> 16;
            u[i] = (x + 0.5) / 4294967296.0;
        }
        return u;
    }

    /// <summary>
    /// The script's hash_value rule, element by element in fp64. Each step is one correctly rounded IEEE
    /// operation in the same order as the script's tensor expression, so the values are bit-identical.
    /// </summary>
    public static Tensor Value(string name, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var u = Uniform(n, Fnv1a(name));
        Func<double, double> rule =
            name.EndsWith("running_var") ? v => 0.5 + v
            : name.EndsWith("running_mean") ? v => 0.2 * (2 * v - 1)
            : name.EndsWith("layer_scale") ? v => 0.05 + 0.1 * v
            : shape.Length >= 2 ? Bound(Math.Sqrt(6.0 / (n / shape[0])))
            : name.EndsWith("weight") ? v => 1 + 0.2 * (2 * v - 1)
            : v => 0.1 * (2 * v - 1);
        for (long i = 0; i < n; i++) u[i] = rule(u[i]);
        return tensor(u, dtype: float64).view(shape);
    }

    static Func<double, double> Bound(double b) => v => b * (2 * v - 1);

    public static T Fill<T>(T module) where T : nn.Module
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, p) in module.named_parameters())
            p.copy_(Value(name, p.shape).to(p.dtype));
        foreach (var (name, b) in module.named_buffers())
            if (name.EndsWith("running_mean") || name.EndsWith("running_var"))
                b.copy_(Value(name, b.shape).to(b.dtype));
        return module;
    }
}
