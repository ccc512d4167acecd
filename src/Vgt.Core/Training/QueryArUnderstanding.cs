using TorchSharp;
using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Models.InternVit;
using Vgt.Models.InternVl;
using Vgt.Models.QueryAr;
using Vgt.Runtime;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// The understanding mix of VGT-AR training (<c>understanding.every = n &gt; 0</c>): so that the tuned LLM stays a unified
/// VLM, step s with s mod n = n − 1 adds <c>loss_weight ×</c> an LM loss on a packed Shapes World question-answering batch
/// to that step's generation loss. The images go through the VLM's own vision tower and mlp1, loaded from
/// <c>init_from</c> and kept frozen (eval mode, no gradient, not in the optimiser or the checkpoints); the text and image
/// tokens go through the generator's decoder, and the logits come from its (tied) embedding, exactly as the VLM's tied
/// lm_head would compute them. The loss is <see cref="VlmTrainer.Loss(Models.Qwen2.Qwen2Model, Func{Tensor, Tensor}, Tensor, VlmBatch, int)"/>,
/// the one shapes-vlm was trained with. Batch s is <see cref="VlmBatchBuilder.Build"/>(s) from the run seed's stream
/// <c>vlm-batch/{s}</c>, so a resumed run sees the same batches.
/// </summary>
public sealed class QueryArUnderstanding : IDisposable
{
    private readonly InternVisionModel vision;
    private readonly VisionProjector mlp1;
    private readonly VlmBatchBuilder batches;

    public QueryArUnderstandingConfig Config { get; }
    public InternVlConfig VlmConfig { get; }
    public string VlmDirectory { get; }
    public Qwen2Tokenizer Tokenizer { get; }
    public int ImageContextId { get; }

    /// <summary>Whether step <paramref name="step"/> (0-based) carries an understanding batch: s mod n = n − 1 (the n-th, 2n-th, … step).</summary>
    public static bool IsUnderstandingStep(int every, long step) => every > 0 && step % every == every - 1;

    public bool IsStep(long step) => IsUnderstandingStep(Config.Every, step);

    /// <param name="vlmDirectory">The resolved <c>init_from</c> (an InternVL directory with a tied LM head).</param>
    /// <param name="generatorTokenizer">The tokenizer the generator trains with; it must be the VLM's.</param>
    public QueryArUnderstanding(string vlmDirectory, QueryArUnderstandingConfig config, VgtSeed seed, Qwen2Tokenizer generatorTokenizer)
    {
        config.Validate();
        Config = config;
        VlmDirectory = vlmDirectory;
        VlmConfig = InternVlHfConfig.LoadDirectory(vlmDirectory);
        if (!VlmConfig.Llm.TieWordEmbeddings)
            throw new ConfigValidationException("understanding.every",
                $"needs a VLM with a tied LM head (tie_word_embeddings): '{vlmDirectory}' has its own lm_head, which the generator does not carry; set understanding.every = 0");
        Tokenizer = Qwen2Tokenizer.Load(vlmDirectory);
        if (!Tokenizer.HasImageTokens)
            throw new ConfigValidationException("understanding.every", $"needs a VLM tokenizer with <img>, </img> and <IMG_CONTEXT>; '{vlmDirectory}' has not all three");
        if (TunedVlm.TokenizerDifference(Tokenizer, generatorTokenizer) is { } diff)
            throw new ConfigValidationException("tokenizer", $"must be init_from's tokenizer when understanding.every > 0 (the generator's ids feed the VLM's batches): {diff}");
        ImageContextId = Tokenizer.ImgContext;

        vision = new InternVisionModel(VlmConfig.Vision);
        mlp1 = new VisionProjector(VlmConfig);
        using (var ck = CheckpointReader.Open(vlmDirectory))
        {
            StateDictLoader.Load(vision, ck, new LoadOptions { Prefix = "vision_model.", Strict = true });
            StateDictLoader.Load(mlp1, ck, new LoadOptions { Prefix = "mlp1.", Strict = true });
        }
        foreach (var p in vision.parameters().Concat(mlp1.parameters())) p.requires_grad = false;
        vision.eval();
        mlp1.eval();
        batches = new VlmBatchBuilder(seed, new VlmBatchSpec(config.Images, config.SegmentsPerImage, config.CaptionFraction, config.CategoryWeights),
            Tokenizer, VlmConfig);
    }

    /// <summary>The packed batch of step <paramref name="step"/> (the caller owns it).</summary>
    public VlmBatch Batch(long step) => batches.Build(step);

    /// <summary>Frozen image tokens [B, N', D] of a batch (no gradient).</summary>
    public Tensor ImageTokens(VlmBatch batch)
    {
        using var noGrad = no_grad();
        return VisionFeatures.Extract(vision, mlp1, VlmConfig, batch.Pixels);
    }

    /// <summary>(LM loss, top-1 token accuracy) of batch <paramref name="step"/> through <paramref name="model"/>'s decoder and tied embedding.</summary>
    public (Tensor Loss, Tensor Accuracy) Loss(QueryArModel model, long step)
    {
        using var scope = NewDisposeScope();
        using var batch = Batch(step);
        var features = ImageTokens(batch);                                                  // [B, N', D]
        var embedding = model.Decoder.EmbedTokens.Weight;                                   // [V, D] = the tied lm_head
        var (loss, accuracy) = VlmTrainer.Loss(model.Decoder, h => nn.functional.linear(h, embedding), features, batch, ImageContextId);
        return (loss.MoveToOuterDisposeScope(), accuracy.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        vision.Dispose();
        mlp1.Dispose();
    }
}
