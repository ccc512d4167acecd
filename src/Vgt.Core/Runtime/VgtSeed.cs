using TorchSharp;

namespace Vgt.Runtime;

/// <summary>
/// The one seed that controls a run. Every consumer of randomness (token order, noise, sampling,
/// data order, dropout) asks for its own named stream, so adding a new consumer never shifts the
/// numbers another one sees, and the same seed always gives the same bytes.
/// </summary>
public sealed record VgtSeed(long Value)
{
    /// <summary>A stable 64-bit value for (seed, stream name): FNV-1a over the name mixed with SplitMix64.</summary>
    public long Derive(string stream)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in stream)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        ulong z = unchecked((ulong)Value + 0x9E3779B97F4A7C15UL * (h | 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (long)(z & 0x7FFF_FFFF_FFFF_FFFFUL);
    }

    /// <summary>A torch CPU generator for the named stream (independent of the global torch RNG).</summary>
    public torch.Generator TorchGenerator(string stream) => new torch.Generator((ulong)Derive(stream));

    /// <summary>A .NET random for the named stream. <see cref="Random"/> with a seed is stable across runtimes for a given version.</summary>
    public Random DotNetRandom(string stream) => new((int)(Derive(stream) & 0x7FFF_FFFF));

    public static implicit operator VgtSeed(long value) => new(value);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
