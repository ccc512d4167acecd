using TorchSharp.Modules;
using Vgt.Config;
using Vgt.Data.ShapesWorld;
using Vgt.Losses;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// The cell probe of `vgt train vgt` (off when absent). <see cref="Weight"/> scales its loss against the flow loss (about
/// 0.1 late in training; the probe's cross-entropies start near 2).
/// </summary>
public sealed record QueryArCellProbeConfig(double Weight = 0.1) : IValidatable
{
    public void Validate() =>
        ConfigValidationException.Require(Weight > 0 && double.IsFinite(Weight), "cell_probe.weight", $"must be > 0, got {Weight}");
}

/// <summary>
/// A temporary linear head on the flow head's condition at every query, thrown away after training (like the layout
/// probe of `train vlm`). It names, for the token's cell of the Shapes World scene, the shape and colour of the object
/// that covers most of it (none where no object covers a quarter of it: <see cref="ShapesDenseLabels.Of"/>).
/// Why: session 9 found that the generator blends the two colours of a color_attr prompt (orange + green → yellow) and
/// continues objects it can see without starting them from the prompt. The flow loss is a regression in latent space:
/// a condition that is unsure between "red circle" and "blue square" is pulled to their middle and the head samples a
/// blend. A categorical target at the same condition asks it to commit to one object per cell, which is what binding
/// a colour to a shape takes. Object cells and empty cells weigh half each (objects cover a few of the 16 cells).
/// </summary>
public sealed class CellProbe : nn.Module
{
    readonly Linear head;   // [D] → [5 + 9]: shape (none + 4), colour (none + 8)

    /// <summary>The probe's weight in the training loss.</summary>
    public QueryArCellProbeConfig Config { get; }

    public CellProbe(QueryArCellProbeConfig config, int dim, Generator? generator) : base("cell_probe")
    {
        Config = config;
        head = Models.InternVit.TorchDefaultInit.Linear(dim, ShapesDenseLabels.ShapeClasses + ShapesDenseLabels.ColorClasses, bias: true, null, generator);   // init: PyTorch default
        RegisterComponents();
    }

    /// <summary>
    /// The dense labels of a batch's scenes on the g × g token grid, raster order: shape [B·g²] and colour [B·g²] (index + 1,
    /// 0 = none), as int64 tensors the caller owns.
    /// </summary>
    public static (Tensor Shape, Tensor Color) Labels(IEnumerable<ShapesScene> scenes, int grid)
    {
        var (shape, color) = (new List<long>(), new List<long>());
        foreach (var scene in scenes)
        {
            var (s, c, _) = ShapesDenseLabels.Of(scene, grid, ShapesVocabulary.CanvasSize);
            shape.AddRange(s);
            color.AddRange(c);
        }
        return (tensor(shape.ToArray(), dtype: ScalarType.Int64), tensor(color.ToArray(), dtype: ScalarType.Int64));
    }

    /// <summary>
    /// The probe loss (shape and colour cross-entropies, object and empty cells balanced) and the share of object cells
    /// whose shape and colour are both right. <paramref name="conditions"/> [B·L, D] in raster order (what the flow head
    /// reads), labels [B·L].
    /// </summary>
    public (Tensor Loss, Tensor ObjectAccuracy) Loss(Tensor conditions, Tensor shapeLabels, Tensor colorLabels)
    {
        if (conditions.shape[0] != shapeLabels.shape[0] || conditions.shape[0] != colorLabels.shape[0])
            throw new ArgumentException($"the cell probe needs one label per condition: {conditions.shape[0]} conditions, {shapeLabels.shape[0]} and {colorLabels.shape[0]} labels");
        using var scope = NewDisposeScope();
        var logits = head.forward(conditions);                                               // [N, 14]
        var shapeLogits = logits.narrow(1, 0, ShapesDenseLabels.ShapeClasses);                    // [N, 5]
        var colorLogits = logits.narrow(1, ShapesDenseLabels.ShapeClasses, ShapesDenseLabels.ColorClasses);   // [N, 9]
        var covered = shapeLabels.gt(0);                                                     // [N]
        var loss = (BalancedCrossEntropy.Loss(shapeLogits, shapeLabels, covered) + BalancedCrossEntropy.Loss(colorLogits, colorLabels, covered)) / 2;
        var right = shapeLogits.argmax(1).eq(shapeLabels).logical_and(colorLogits.argmax(1).eq(colorLabels));
        var accuracy = right.logical_and(covered).to_type(ScalarType.Float32).sum() / covered.to_type(ScalarType.Float32).sum().clamp_min(1);
        return (loss.MoveToOuterDisposeScope(), accuracy.detach().MoveToOuterDisposeScope());
    }
}
