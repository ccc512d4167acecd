using TorchSharp;
using TorchSharp.Modules;
using Vgt.Config;
using Vgt.Data.ShapesWorld;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// The layout probe of `vgt train vlm` (off when absent). <see cref="Weight"/> scales its loss against the LM loss.
/// <see cref="PositionLayer"/>: how many decoder layers the place head reads (1..L). <see cref="RelationLayer"/>: the same
/// for the relation head (0 = the final normed hidden state, what the LM head reads); a layer below the last leaves the
/// layers above it free to turn the four relations into the asked one's yes/no. <see cref="Bins"/> splits each canvas
/// axis for the place targets. <see cref="GroupLayer"/>: how many decoder layers the caption-group head reads (1..L, 0 = the
/// final normed hidden state); null (the default) leaves the head out.
/// </summary>
public sealed record VlmLayoutProbeConfig(double Weight = 0.5, int PositionLayer = 1, int RelationLayer = 3, int Bins = 8, int? GroupLayer = null)
    : IValidatable
{
    public void Validate()
    {
        ConfigValidationException.Require(Weight >= 0 && double.IsFinite(Weight), "layout_probe.weight", $"must be >= 0, got {Weight}");
        ConfigValidationException.Require(PositionLayer >= 1, "layout_probe.position_layer", $"must be >= 1, got {PositionLayer}");
        ConfigValidationException.Require(RelationLayer >= 0, "layout_probe.relation_layer", $"must be >= 0 (0 = the final hidden state), got {RelationLayer}");
        ConfigValidationException.Require(GroupLayer is null or >= 0, "layout_probe.group_layer", $"must be >= 0 (0 = the final hidden state) or absent, got {GroupLayer}");
        ConfigValidationException.Require(Bins is >= 2 and <= ShapesVocabulary.CanvasSize, "layout_probe.bins", $"must be in [2, {ShapesVocabulary.CanvasSize}], got {Bins}");
    }
}

/// <summary>
/// Temporary linear heads on the LLM's hidden states that supervise the steps of a relation question, thrown away after
/// training (like the vision warm-up's head). Why: the yes/no of "is the A left of the B?" composes three steps (find A,
/// find B, compare under the relation word), and the LM loss alone gives none of them a gradient until all are in place.
/// Every LM-only recipe, fine-tune and probe of sessions 4–8 stayed at the majority answer (0.646). The heads name each
/// step where a causal LLM can take it, one attention hop apart:
/// <list type="bullet">
/// <item>place (after <c>position_layer</c> layers): at the last token of each shape word of the question, the (column,
/// row) bin of that object's centre: one hop from the word to the image tokens;</item>
/// <item>relation (after <c>relation_layer</c> layers): at the B word and at the answer position, which of the four
/// relations hold for A against B, whatever was asked: one hop back to the A word's place.</item>
/// <item>caption group (after <c>group_layer</c> layers, optional): at the position that predicts each caption group's
/// count word, the colour, shape and count of that group. The caption names the group's count before its colour and
/// shape, so the LM has to pick the next group (and count its members) one token before the loss names it; the
/// head names that choice where it is made. Aimed at the two commonest caption misses: a same-looking pair split into
/// two groups, and a colour bound to the wrong shape.</item>
/// </list>
/// With the relation head on the final hidden state, it learned the four relations (0.95) while the yes/no answers stayed
/// near the prior; read after layer 3 of 4, the last layer gates them by the relation word and the answers follow.
/// </summary>
public sealed class LayoutProbe : nn.Module
{
    readonly Linear place;      // [D] → [2·bins]: column bin, row bin of the named object
    readonly Linear relations;  // [D] → [4]: left of, right of, above, below hold for A against B
    readonly Linear? groups;    // [D] → [8 + 4 + 4]: colour, shape, count − 1 of the caption group that follows

    /// <summary>Where the heads read, how many bins and how much the loss weighs.</summary>
    public VlmLayoutProbeConfig Config { get; }

    int Bins => Config.Bins;

    /// <summary>Class counts of the group head's three parts: colour, shape, count (1..4).</summary>
    static readonly long[] GroupClasses = [ShapesVocabulary.Colors.Count, ShapesVocabulary.Shapes.Count, 4];

    public LayoutProbe(VlmLayoutProbeConfig config, int hidden, Generator? generator) : base("layout_probe")
    {
        Config = config;
        place = Models.InternVit.TorchDefaultInit.Linear(hidden, 2 * config.Bins, bias: true, null, generator);   // init: PyTorch default
        relations = Models.InternVit.TorchDefaultInit.Linear(hidden, ShapesVocabulary.Relations.Count, bias: true, null, generator);
        if (config.GroupLayer is not null)   // created last: without it the other heads start as before
            groups = Models.InternVit.TorchDefaultInit.Linear(hidden, (int)GroupClasses.Sum(), bias: true, null, generator);
        RegisterComponents();
    }

    /// <summary>
    /// The probe loss of one batch: the mean place cross-entropy (column and row averaged) plus the mean relation binary
    /// cross-entropy (unweighted), plus, with the group head, the mean of its colour, shape and count cross-entropies.
    /// A part whose targets the batch lacks adds nothing. <paramref name="positionHidden"/> [B, T, D] after
    /// <c>position_layer</c> layers, <paramref name="relationHidden"/> after <c>relation_layer</c>,
    /// <paramref name="groupHidden"/> after <c>group_layer</c> (null without the group head). Returns the loss and the
    /// accuracies of the relation head (all four relations right) and of the group head (all three parts right), null
    /// where not computed.
    /// </summary>
    public (Tensor Loss, Tensor? RelationAccuracy, Tensor? GroupAccuracy) Loss(Tensor positionHidden, Tensor relationHidden, Tensor? groupHidden,
        LayoutProbeTargets targets)
    {
        using var scope = NewDisposeScope();
        Tensor loss = zeros(1, dtype: positionHidden.dtype, device: positionHidden.device).squeeze();
        Tensor? relationAccuracy = null, groupAccuracy = null;
        if (targets.PlaceIndex.shape[0] > 0)
        {
            var early = positionHidden.reshape(-1, positionHidden.shape[2]);                      // [B·T, D]
            var late = relationHidden.reshape(-1, relationHidden.shape[2]);                       // [B·T, D]
            var placeLogits = place.forward(early.index_select(0, targets.PlaceIndex));           // [P, 2·bins]
            var (columns, rows) = (placeLogits.narrow(1, 0, Bins), placeLogits.narrow(1, Bins, Bins));
            var placeLoss = (nn.functional.cross_entropy(columns, targets.PlaceBins.select(1, 0))
                             + nn.functional.cross_entropy(rows, targets.PlaceBins.select(1, 1))) / 2;
            var relationLogits = relations.forward(late.index_select(0, targets.RelationIndex));   // [R, 4]
            var relationLoss = nn.functional.binary_cross_entropy_with_logits(relationLogits, targets.Holds);
            relationAccuracy = relationLogits.gt(0).eq(targets.Holds.gt(0.5)).all(1).to_type(ScalarType.Float32).mean().MoveToOuterDisposeScope();
            loss = placeLoss + relationLoss;
        }
        if (groups is not null && targets.GroupIndex.shape[0] > 0)
        {
            if (groupHidden is null) throw new ArgumentNullException(nameof(groupHidden), "the group head needs the hidden state after group_layer layers");
            var logits = groups.forward(groupHidden.reshape(-1, groupHidden.shape[2]).index_select(0, targets.GroupIndex));   // [G, 16]
            var parts = logits.split(GroupClasses, 1);                                          // [G, 8], [G, 4], [G, 4]
            var groupLoss = zeros_like(loss);
            var allRight = ones(targets.GroupIndex.shape[0], dtype: ScalarType.Bool);
            for (int k = 0; k < parts.Length; k++)
            {
                var target = targets.Groups.select(1, k);                                        // [G]
                groupLoss = groupLoss + nn.functional.cross_entropy(parts[k], target) / parts.Length;
                allRight = allRight.logical_and(parts[k].argmax(1).eq(target));
            }
            groupAccuracy = allRight.to_type(ScalarType.Float32).mean().MoveToOuterDisposeScope();
            loss = loss + groupLoss;
        }
        return (loss.MoveToOuterDisposeScope(), relationAccuracy, groupAccuracy);
    }
}
