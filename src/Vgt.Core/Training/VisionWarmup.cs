using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Logging;
using Vgt.Losses;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// The vision warm-up of `vgt train vlm` (stage 0). Steps 0..<see cref="Steps"/>−1 train only the vision tower and mlp1
/// with a temporary linear head on every image token; <see cref="Lr"/> is AdamW's rate (constant after 10 % linear
/// warm-up). 0 steps = no warm-up. <see cref="PositionTargets"/> adds each token's grid row and column as two more
/// classification targets, so the projected tokens keep their coordinates (what left/right/above/below questions read).
/// </summary>
public sealed record VlmVisionWarmupConfig(int Steps = 0, double Lr = 1e-3, int BatchSize = 16, bool PositionTargets = false) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(Steps >= 0, "vision_warmup.steps", $"must be >= 0, got {Steps}");
        ConfigValidationException.Require(Lr > 0 && double.IsFinite(Lr), "vision_warmup.lr", $"must be > 0, got {Lr}");
        ConfigValidationException.Require(BatchSize >= 1, "vision_warmup.batch_size", $"must be >= 1, got {BatchSize}");
    }
}

/// <summary>
/// Why a warm-up: trained from scratch on the LM loss alone, the tiny InternViT stays shape-blind. The answer token's
/// attention starts out spread over all 64 image tokens, so the vision tower only receives a mean-pooled signal, and a
/// 4-way shape classifier on mean-pooled tokens barely learns (measured: 0.4 accuracy after 200 steps, while the same
/// tower under a max-pooled head reaches 0.97 in 225 steps). The LM-only run stalled at exactly the loss of a model that
/// reads colours but not shapes (0.31 on single-object scenes). A real InternVL starts from a pretrained InternViT; this
/// stage is the Shapes World stand-in for that pretraining. Its target is dense: image token (i, j) of the g × g grid
/// is labelled with the (shape, colour) of the object whose box centre falls in its cell, or "none" (class 0), so every
/// object is named at exactly one token (object centres are ≥ 15 px apart on some axis, cells are 8 px). That is the
/// information captions, counts and relations read out later. The head is discarded afterwards; only the vision tower
/// and mlp1 keep what they learned.
/// </summary>
public static class VisionWarmup
{
    /// <summary>Outputs of the temporary head: shape (none + 4), colour (none + 8), centre flag (2).</summary>
    public static int HeadOutputs => ShapesDenseLabels.ShapeClasses + ShapesDenseLabels.ColorClasses + 2;

    /// <summary>Head width with the optional row and column targets of a g × g grid.</summary>
    public static int HeadOutputsFor(int grid, bool positionTargets) => HeadOutputs + (positionTargets ? 2 * grid : 0);

    /// <summary>Row-major row and column labels of a g × g grid, repeated for <paramref name="batch"/> images: [B·g²] each.</summary>
    public static (long[] Row, long[] Column) GridLabels(int grid, int batch)
    {
        int n = grid * grid;
        var (row, col) = (new long[batch * n], new long[batch * n]);
        for (int i = 0; i < batch * n; i++) (row[i], col[i]) = ((i % n) / grid, (i % n) % grid);
        return (row, col);
    }

    /// <summary>
    /// Trains <paramref name="model"/>'s vision tower and mlp1 for <see cref="VlmVisionWarmupConfig.Steps"/> steps. Batches
    /// come from <c>seed.DotNetRandom("vlm-vision-warmup/{step}")</c> and the head from the "vision-warmup" torch stream,
    /// so the stage is reproducible on its own (a run interrupted in it simply repeats it).
    /// </summary>
    public static void Run(InternVlModel model, VlmVisionWarmupConfig config, VgtSeed seed, IReadOnlyDictionary<string, double>? categoryWeights,
        IProgressFactory progress, TextWriter log)
    {
        if (config.Steps == 0) return;
        int grid = (int)Math.Round(Math.Sqrt(model.Config.NumImageTokens));
        int imageSize = model.Config.ImageSize;
        using var generator = seed.TorchGenerator("vision-warmup");
        using var head = Models.InternVit.TorchDefaultInit.Linear(model.Config.Llm.HiddenSize, HeadOutputsFor(grid, config.PositionTargets), bias: true, null, generator);   // init: PyTorch default
        var parameters = model.VisionModel.parameters().Concat(model.Mlp1.parameters()).Concat(head.parameters()).ToList();
        using var optimizer = optim.AdamW(parameters, lr: config.Lr, beta1: 0.9, beta2: 0.98, weight_decay: 0.0);
        var dataset = new ShapesDataset(new ShapesDatasetOptions(ShapesSplit.Train, ShapesVocabulary.CanvasSize, categoryWeights));
        int warm = Math.Max(1, config.Steps / 10);
        double lossSum = 0, accSum = 0;
        int window = 0;
        model.train();
        using var bar = progress.Start("vision warm-up", config.Steps);
        for (int step = 0; step < config.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var rng = seed.DotNetRandom($"vlm-vision-warmup/{step}");
            var samples = Enumerable.Range(0, config.BatchSize).Select(_ => dataset.Get(VlmBatchBuilder.DrawTrainScene(rng))).ToList();
            var pixels = VlmBatchBuilder.Pixels(samples, imageSize);                                      // [B,3,S,S]
            var dense = samples.Select(s => ShapesDenseLabels.Of(s.Scene, grid, ShapesVocabulary.CanvasSize)).ToList();
            var shapes = tensor(dense.SelectMany(d => d.Shape).ToArray());                             // [B·g²]
            var colors = tensor(dense.SelectMany(d => d.Color).ToArray());                             // [B·g²]
            var centres = tensor(dense.SelectMany(d => d.Centre).ToArray());                           // [B·g²]
            foreach (var g in optimizer.ParamGroups) g.LearningRate = config.Lr * Math.Min(1.0, (step + 1.0) / warm);
            optimizer.zero_grad();
            var features = model.ExtractFeature(pixels);                                                  // [B, g², D]
            var outputs = head.forward(features.reshape(-1, features.shape[2]));                          // [B·g², 16 (+ 2g)]
            int shapeClasses = ShapesDenseLabels.ShapeClasses, colorClasses = ShapesDenseLabels.ColorClasses;
            var shapeLogits = outputs.narrow(1, 0, shapeClasses);
            var colorLogits = outputs.narrow(1, shapeClasses, colorClasses);
            var centreLogits = outputs.narrow(1, shapeClasses + colorClasses, 2);
            var onObject = shapes.ne(0);
            var loss = BalancedCrossEntropy.Loss(shapeLogits, shapes, onObject) + BalancedCrossEntropy.Loss(colorLogits, colors, onObject)
                       + BalancedCrossEntropy.Loss(centreLogits, centres, centres.ne(0));
            if (config.PositionTargets)
            {
                var (rows, cols) = GridLabels(grid, samples.Count);
                var rowLogits = outputs.narrow(1, HeadOutputs, grid);                                     // [B·g², g]
                var colLogits = outputs.narrow(1, HeadOutputs + grid, grid);
                loss = loss + nn.functional.cross_entropy(rowLogits, tensor(rows)) + nn.functional.cross_entropy(colLogits, tensor(cols));
            }
            loss.backward();
            nn.utils.clip_grad_norm_(parameters, 1.0);
            optimizer.step();
            // accuracy of the shape label on the tokens objects cover: the part the LM-only run never learned
            accSum += shapeLogits.argmax(-1).eq(shapes).logical_and(onObject).sum().item<long>() / (double)Math.Max(1, onObject.sum().item<long>());
            lossSum += loss.item<float>();
            window++;
            if ((step + 1) % 25 == 0 || step + 1 == config.Steps)
            {
                bar.Advance(window, string.Create(CultureInfo.InvariantCulture, $"loss {lossSum / window:F4} shape acc {accSum / window:F3}"));
                if (step + 1 == config.Steps)
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"vision warm-up: {config.Steps} steps, last loss {lossSum / window:F4}, object-token shape accuracy {accSum / window:F3}"));
                lossSum = accSum = 0;
                window = 0;
            }
        }
    }
}
