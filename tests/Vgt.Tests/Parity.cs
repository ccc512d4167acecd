using Vgt.Checkpoints;
using static TorchSharp.torch;

namespace Vgt.Tests;

/// <summary>Shared pieces of the parity tests: reading fixtures with the project's own reader, and the error measure.</summary>
internal static class Parity
{
    /// <summary>fp32 parity bound used throughout (relative error as defined by <see cref="RelErr"/>).</summary>
    public const double Tolerance = 1e-4;

    public static string FixturePath(string area, string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", area, file);

    /// <summary>Every tensor of a fixture file (stored dtype kept) and its string metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Load(string area, string file)
    {
        var path = FixturePath(area, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"Missing fixture {path}; regenerate it with the script in tools/fixtures/.", path);
        using var f = SafetensorsFile.Open(path);
        var tensors = f.Names.ToDictionary(n => n, n => f.Load(n, dtype: null).DetachFromDisposeScope());
        return (tensors, f.Metadata);
    }

    /// <summary>max |actual − expected| / max |expected|, computed in fp64.</summary>
    public static double RelErr(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var diff = (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs().max().item<double>();
        var scale = expected.to_type(ScalarType.Float64).abs().max().item<double>();
        return diff / Math.Max(scale, 1e-30);
    }
}
