using System.Text.RegularExpressions;
using Vgt.Data.ShapesWorld;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// What the layout probe (<see cref="LayoutProbe"/>) reads in one packed batch, as flat packed positions
/// (<c>row · T + t</c>) and targets:
/// <list type="bullet">
/// <item><see cref="PlaceIndex"/> [P] / <see cref="PlaceBins"/> [P, 2] (column, row): the last token of each shape word
/// of a relation question and where that object's centre is;</item>
/// <item><see cref="RelationIndex"/> [R] / <see cref="Holds"/> [R, 4]: the B word and the answer position of each relation
/// question "is the A {rel} the B?" and which of left of, right of, above, below hold for A against B (the judge's rule),
/// whatever relation was asked;</item>
/// <item><see cref="AnswerIndex"/> [M]: the position that predicts each relation question's yes/no (for its accuracy);</item>
/// <item><see cref="GroupIndex"/> [G] / <see cref="Groups"/> [G, 3] (colour, shape, count − 1): the position that
/// predicts each caption group's count word and the group that follows (only with the probe's group head).</item>
/// </list>
/// Index tensors are long; any of them may be empty (a batch without relation questions, or without captions).
/// </summary>
public sealed record LayoutProbeTargets(Tensor PlaceIndex, Tensor PlaceBins, Tensor RelationIndex, Tensor Holds, Tensor AnswerIndex,
    Tensor GroupIndex, Tensor Groups) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in new[] { PlaceIndex, PlaceBins, RelationIndex, Holds, AnswerIndex, GroupIndex, Groups }) t.Dispose();
    }
}

/// <summary>A relation segment before packing: prompt-token indices of the two shape words, and the two objects.</summary>
public readonly record struct RelationSegment(int AToken, int BToken, SceneObject A, SceneObject B);

/// <summary>Parses relation questions and collects <see cref="LayoutProbeTargets"/> while a batch is packed.</summary>
public sealed partial class LayoutProbeTargetsBuilder(int bins)
{
    // positions as (packed row, offset in the row) until the batch width is known
    readonly List<(int Row, long At)> placeIndex = [], relationIndex = [], answerIndex = [], groupIndex = [];
    readonly List<long> placeBins = [], groups = [];
    readonly List<float> holds = [];

    [GeneratedRegex(@"^is the (?<a>[a-z]+) (?<rel>left of|right of|above|below) the (?<b>[a-z]+)\?$")]
    private static partial Regex RelationQuestion();

    /// <summary>The two shape words of a relation question, or null for any other question.</summary>
    public static (string A, string B)? ShapesOf(string question) =>
        RelationQuestion().Match(question) is { Success: true } m ? (m.Groups["a"].Value, m.Groups["b"].Value) : null;

    /// <summary>The character offsets just past the A word and past the B word of a relation question.</summary>
    public static (int AEnd, int BEnd) WordEnds(string question)
    {
        var m = RelationQuestion().Match(question);
        if (!m.Success) throw new ArgumentException($"'{question}' is not a relation question");
        return (m.Groups["a"].Index + m.Groups["a"].Length, m.Groups["b"].Index + m.Groups["b"].Length);
    }

    /// <summary>Adds a relation segment of packed row <paramref name="row"/> whose prompt token t sits at offset <paramref name="token0"/> + t.</summary>
    public void AddRelation(RelationSegment segment, long token0, int promptLength, int row)
    {
        placeIndex.Add((row, token0 + segment.AToken));
        placeBins.AddRange(Bins(segment.A));
        placeIndex.Add((row, token0 + segment.BToken));
        placeBins.AddRange(Bins(segment.B));
        var held = ShapesSceneSampler.RelationsBetween(segment.A, segment.B);
        foreach (long at in new[] { token0 + segment.BToken, token0 + promptLength - 1 })
        {
            relationIndex.Add((row, at));
            foreach (var rel in ShapesVocabulary.Relations) holds.Add(held.Contains(rel) ? 1f : 0f);
        }
        answerIndex.Add((row, token0 + promptLength - 1));
    }

    /// <summary>
    /// Adds caption group <paramref name="group"/> of packed row <paramref name="row"/>, whose count word is predicted at
    /// offset <paramref name="at"/> of the row.
    /// </summary>
    public void AddGroup(CaptionGroup group, long at, int row)
    {
        if (group.Count is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(group), $"a caption group has 1..4 objects, got {group.Count}");
        groupIndex.Add((row, at));
        groups.AddRange([ShapesVocabulary.ColorIndex(group.Color), ShapesVocabulary.ShapeIndex(group.Shape), group.Count - 1]);
    }

    long[] Bins(SceneObject o) =>
    [
        Math.Clamp((long)(o.CenterX * bins / ShapesVocabulary.CanvasSize), 0, bins - 1),
        Math.Clamp((long)(o.CenterY * bins / ShapesVocabulary.CanvasSize), 0, bins - 1),
    ];

    /// <summary>The targets collected so far for packed rows of <paramref name="width"/> tokens (the caller owns them), or null when there are none.</summary>
    public LayoutProbeTargets? Build(int width)
    {
        if (placeIndex.Count == 0 && groupIndex.Count == 0) return null;
        Tensor Flat(List<(int Row, long At)> list) => tensor(list.Select(e => (long)e.Row * width + e.At).ToArray(), dtype: ScalarType.Int64);
        return new LayoutProbeTargets(
            Flat(placeIndex), tensor(placeBins.ToArray(), dtype: ScalarType.Int64).view(-1, 2),
            Flat(relationIndex), tensor(holds.ToArray(), dtype: ScalarType.Float32).view(-1, 4),
            Flat(answerIndex),
            Flat(groupIndex), tensor(groups.ToArray(), dtype: ScalarType.Int64).view(-1, 3));
    }
}
