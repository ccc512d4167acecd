using TorchSharp;
using TorchSharp.Modules;
using Vgt.Config;
using Vgt.Data.ShapesWorld;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// The relation probe of `vgt train vlm` (off when absent). <see cref="Weight"/> scales its loss against the LM loss;
/// <see cref="PositionLayer"/> is the number of decoder layers whose output the position head reads (1..L); the
/// relation head reads the final (normed) hidden state; <see cref="Bins"/> splits each canvas axis for the position targets.
/// </summary>
public sealed record VlmRelationProbeConfig(double Weight = 1.0, int PositionLayer = 2, int Bins = 8) : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(Weight >= 0 && double.IsFinite(Weight), "relation_probe.weight", $"must be >= 0, got {Weight}");
        ConfigValidationException.Require(PositionLayer >= 1, "relation_probe.position_layer", $"must be >= 1, got {PositionLayer}");
        ConfigValidationException.Require(Bins is >= 2 and <= ShapesVocabulary.CanvasSize, "relation_probe.bins", $"must be in [2, {ShapesVocabulary.CanvasSize}], got {Bins}");
    }
}

/// <summary>
/// Temporary heads that give the LLM a direct gradient towards each step of a relation question, thrown away after
/// training (like the vision warm-up's head). Why: the yes/no answer of "is the A left of the B?" needs three things
/// composed (find A, find B, compare under the relation word), and the LM loss alone gives no gradient to any of them
/// until all are in place: every LM-only recipe, fine-tune and probe of sessions 4–8 stayed at the majority answer
/// (0.646). The probe supervises the intermediate readings where a causal LLM can form them:
/// <list type="bullet">
/// <item>at the A word and at the B word (after <c>position_layer</c> layers): the (column, row) bin of that object's
/// centre — one attention hop from the shape word to the image tokens;</item>
/// <item>at the B word and at the position that predicts the answer (final hidden state): which of the four relations hold
/// for A against B — one hop back to the A word's position reading.</item>
/// </list>
/// </summary>
public sealed class RelationProbe : nn.Module
{
    readonly Linear position;   // [D] → [2·bins]: column bin, row bin
    readonly Linear relations;  // [D] → [4]: left of, right of, above, below hold for A against B

    public int Bins { get; }

    public RelationProbe(int hidden, int bins, Generator? generator) : base("relation_probe")
    {
        Bins = bins;
        position = Models.InternVit.TorchDefaultInit.Linear(hidden, 2 * bins, bias: true, null, generator);   // init: PyTorch default
        relations = Models.InternVit.TorchDefaultInit.Linear(hidden, ShapesVocabulary.Relations.Count, bias: true, null, generator);
        RegisterComponents();
    }

    /// <summary>
    /// The probe loss for one batch: mean of the position cross-entropies (A at its word, B at its word; column and row)
    /// plus the mean binary cross-entropy of the four relations at the B word and at the answer position.
    /// <paramref name="middle"/> [B, T, D] after <c>position_layer</c> layers; <paramref name="final"/> [B, T, D] normed.
    /// Returns the loss and the accuracy of the relation head at the answer position (all four relations right).
    /// </summary>
    public (Tensor Loss, Tensor RelationAccuracy) Loss(Tensor middle, Tensor final, RelationProbeTargets targets)
    {
        using var scope = NewDisposeScope();
        var mid = middle.reshape(-1, middle.shape[2]);                                         // [B·T, D]
        var fin = final.reshape(-1, final.shape[2]);                                           // [B·T, D]
        var positionLoss = PositionLoss(mid.index_select(0, targets.AIndex), targets.ABins)
                           + PositionLoss(mid.index_select(0, targets.BIndex), targets.BBins);
        var atB = relations.forward(fin.index_select(0, targets.BIndex));                      // [M, 4]
        var atAnswer = relations.forward(fin.index_select(0, targets.AnswerIndex));           // [M, 4]
        var relationLoss = nn.functional.binary_cross_entropy_with_logits(atB, targets.Holds)
                           + nn.functional.binary_cross_entropy_with_logits(atAnswer, targets.Holds);
        var loss = (positionLoss + relationLoss) / 2;
        var allRight = atAnswer.gt(0).eq(targets.Holds.gt(0.5)).all(1).to_type(ScalarType.Float32).mean();
        return (loss.MoveToOuterDisposeScope(), allRight.MoveToOuterDisposeScope());
    }

    /// <summary>Column and row cross-entropy (mean of the two) of hidden states [M, D] against bins [M, 2].</summary>
    Tensor PositionLoss(Tensor hidden, Tensor bins)
    {
        var logits = position.forward(hidden);                                                  // [M, 2·bins]
        return (nn.functional.cross_entropy(logits.narrow(1, 0, Bins), bins.select(1, 0))
                + nn.functional.cross_entropy(logits.narrow(1, Bins, Bins), bins.select(1, 1))) / 2;
    }
}
