using Vgt.Models.InternVit;
using Vgt.Models.InternVl;
using Vgt.Models.Qwen2;
using Vgt.Tokenization;
using Vgt.Training;

namespace Vgt.Tests.Vlm;

/// <summary>A tiny tokenizer learned from Shapes World text and tiny InternVL configs for the chat-model tests.</summary>
public static class VlmTestKit
{
    static readonly Lazy<Qwen2Tokenizer> LazyTokenizer = new(() =>
    {
        var model = BpeTrainer.Train(VlmTasks.TokenizerCorpus(60), new BpeTrainerOptions(400));
        return Qwen2Tokenizer.FromModel(model with { EosToken = Qwen2SpecialTokens.ImEnd, PadToken = Qwen2SpecialTokens.EndOfText });
    });

    public static Qwen2Tokenizer Tokenizer => LazyTokenizer.Value;

    /// <summary>16 px images, patch 4, pixel shuffle 2 → 2×2 = 4 image tokens; a 2-layer GQA decoder.</summary>
    public static InternVlConfig Config(int vocab, int maxPositions = 256, int llmLayers = 2, int llmHidden = 32, bool tied = false) => new(
        new InternVitConfig(HiddenSize: 16, IntermediateSize: 32, NumHiddenLayers: 1, NumAttentionHeads: 2, PatchSize: 4, ImageSize: 16,
            QkvBias: true, QkNormalization: false, NormType: InternVitNormType.LayerNorm, LayerNormEps: 1e-6),
        new Qwen2Config(VocabSize: vocab, HiddenSize: llmHidden, IntermediateSize: 64, NumHiddenLayers: llmLayers, NumAttentionHeads: 4,
            NumKeyValueHeads: 2, RmsNormEps: 1e-6, RopeTheta: 10000, MaxPositionEmbeddings: maxPositions, TieWordEmbeddings: tied,
            InitializerRange: 0.2),
        DownsampleRatio: 0.5, Projector: new VisionProjectorConfig(), SelectLayer: -1, PsVersion: PixelShuffleVersion.V2,
        ImageSize: 16, Template: "vgt");

    /// <summary>The same tiny model on 64 px Shapes World images: patch 16, shuffle 2 → 2×2 tokens.</summary>
    public static InternVlConfig Tiny64(int vocab)
    {
        var c = Config(vocab);
        return c with { Vision = c.Vision with { PatchSize = 16, ImageSize = 64 }, ImageSize = 64 };
    }

    public static InternVlChatModel Model(long seed = 7, int maxPositions = 256, bool tied = false)
    {
        var model = InternVlChatModel.CreateRandom(Config(Tokenizer.VocabSize, maxPositions, tied: tied), Tokenizer, seed);
        model.Model.eval();
        return model;
    }

    /// <summary>A deterministic image [3,size,size] in [−1,1].</summary>
    public static TorchSharp.torch.Tensor Image(long seed, int size = 16) =>
        TorchSharp.torch.rand([3, size, size], generator: new TorchSharp.torch.Generator((ulong)seed)) * 2 - 1;

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vgt-vlm-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
