using Vgt.Models.FlowHead;
using Vgt.Models.QueryAr;
using Vgt.Models.Qwen2;
using Vgt.Pipelines;
using Vgt.Training;
using static TorchSharp.torch;

namespace Vgt.Tests.VgtTraining;

/// <summary>
/// A tiny random VGT setup: 16 px Shapes World, a patch-linear AE (stride 4, 4 channels → a 4×4 token grid), a 2-layer
/// D = 32 LLM, the tiny BPE tokenizer fixture (1,024 ids with &lt;img&gt;).
/// </summary>
internal static class TinyVgt
{
    public const int Stride = 4;
    public const int Channels = 4;

    public static string TokenizerDir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenization", "tiny");

    public static QueryArConfig Model() => new()
    {
        Llm = new Qwen2Config(VocabSize: 1024, HiddenSize: 32, IntermediateSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 4,
            NumKeyValueHeads: 2, RmsNormEps: 1e-6, RopeTheta: 10000, MaxPositionEmbeddings: 512, TieWordEmbeddings: true),
        LatentChannels = Channels,
        MetaqueryMaxH = 4,
        MetaqueryMaxW = 4,
        MaxPromptTokens = 64,
        Head = new FlowHeadConfig { InputDim = Channels, CondDim = 32, Width = 32, Depth = 2, FreqDim = 16 },
    };

    /// <summary>Writes a random patch-linear AE directory (fixed seed) and returns it.</summary>
    public static string Ae(string root)
    {
        var dir = Path.Combine(root, "ae");
        using var ae = new PatchLinearAutoencoder(new PatchLinearAeConfig { Stride = Stride, LatentChannels = Channels }, new Generator(11));
        ae.Save(dir);
        return dir;
    }

    public static QueryArTrainConfig Train(string root, int steps = 4, int scenes = 16, bool cache = true) => new()
    {
        Seed = 5,
        Model = Model(),
        Tokenizer = TokenizerDir,
        Ae = Ae(root),
        Data = new QueryArDataConfig { ImageSize = 16, Scenes = scenes, LatentCache = cache },
        Optim = new QueryArOptimConfig { Steps = steps, BatchSize = 4, Lr = 2e-3, EndLr = 2e-4, WarmupSteps = 1 },
        Ema = new QueryArEmaConfig { Decay = 0.9, StartStep = 1 },
        Run = new QueryArRunConfig { LogEvery = 1, CheckpointEvery = 2, EvalEvery = 0, EvalBatchSize = 4 },
        Generation = new GeneratorDefaults { Cfg = 2.0, Steps = 3, Size = 16 },
    };

    /// <summary>Trains a couple of steps and exports a generator directory under <paramref name="root"/>.</summary>
    public static string Generator(string root)
    {
        var dir = Path.Combine(root, "generator");
        using var t = new QueryArTrainer(Train(root, steps: 2), Path.Combine(root, "run"));
        t.Train();
        t.Export(dir, "tiny-vgt", "# tiny-vgt\n");
        return dir;
    }
}
