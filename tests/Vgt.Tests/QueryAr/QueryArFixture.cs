using System.Text.Json;
using TorchSharp;
using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Models.QueryAr;
using Vgt.Pipelines;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Tests.QueryAr;

/// <summary>
/// Fixtures of tools/fixtures/make_queryar_fixtures.py, read with the project's checkpoint reader:
/// model.safetensors (weights + config JSON), loss.safetensors, gen_*.safetensors, vgt_ar_tiny.pth.
/// </summary>
internal static class QueryArFixture
{
    public const double Tolerance = 1e-4;

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "queryar", name);

    /// <summary>All tensors of a safetensors fixture (stored dtypes) and its metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) throw new FileNotFoundException("fixture missing; run /usr/bin/python3 tools/fixtures/make_queryar_fixtures.py", path);
        using var ck = CheckpointReader.Open(path);
        var tensors = ck.Names.ToDictionary(n => n, n => ck.Load(n, dtype: null).DetachFromDisposeScope());
        return (tensors, ck.Metadata);
    }

    public static QueryArConfig Config(bool repa = true)
    {
        var config = ConfigJson.Deserialize<QueryArConfig>(Read("model.safetensors").Metadata["config"], "model.safetensors");
        return repa ? config : config with { RepaLossWeight = 0, Head = config.Head with { Repa = null } };
    }

    /// <summary>The fixture model, loaded strictly from model.safetensors.</summary>
    public static QueryArModel Model(bool repa = true)
    {
        var model = new QueryArModel(Config(repa));
        var report = StateDictLoader.LoadFile(model, PathOf("model.safetensors"),
            new LoadOptions { Strict = repa, Ignore = repa ? [] : [@"repa_projector"] });
        Assert.True(report.Missing.Count == 0, report.ToString());
        model.eval();
        return model;
    }

    public static Qwen2Tokenizer Tokenizer() => Qwen2Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenization", "tiny"));

    public static JsonElement CaseOf(IReadOnlyDictionary<string, string> metadata) => JsonDocument.Parse(metadata["case"]).RootElement;

    /// <summary>max|a − b| / max|b|.</summary>
    public static double RelErr(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var diff = (actual.to(float64) - expected.to(float64)).abs().max().item<double>();
        return diff / Math.Max(expected.to(float64).abs().max().item<double>(), 1e-30);
    }
}

/// <summary>A stand-in AE decoder: the first three latent channels, each cell repeated stride × stride.</summary>
internal sealed class RepeatDecoder(int stride, int channels) : ILatentDecoder
{
    public int Stride => stride;
    public int LatentChannels => channels;
    public int Calls { get; private set; }

    public Tensor Decode(Tensor z)
    {
        Calls++;
        return z.narrow(1, 0, 3).repeat_interleave(stride, 2).repeat_interleave(stride, 3);
    }
}

/// <summary>Counts progress calls.</summary>
internal sealed class CountingProgress : Vgt.Logging.IProgressFactory, Vgt.Logging.IProgressReporter
{
    public string? Label { get; private set; }
    public long Total { get; private set; }
    public long Done { get; private set; }
    public Vgt.Logging.IProgressReporter Start(string label, long total) { (Label, Total) = (label, total); return this; }
    public void Advance(long steps = 1, string? status = null) => Done += steps;
    public void Dispose() { }
}
