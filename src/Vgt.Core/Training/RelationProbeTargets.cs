using System.Text.RegularExpressions;
using Vgt.Data.ShapesWorld;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>
/// Where the relation questions of one packed batch sit and what a probe should read there. For every relation segment
/// "is the {A} {rel} the {B}?": the packed positions (flat <c>row · T + t</c>) of the last token of the A word, of the
/// last token of the B word and of the position that predicts the answer; A's and B's centres as (column, row) bins;
/// and which of the four relations (left of, right of, above, below; the judge's rule) hold for A against B, whatever
/// relation was asked. M = the number of relation segments. <see cref="AIndex"/>, <see cref="BIndex"/>,
/// <see cref="AnswerIndex"/> [M] long; <see cref="ABins"/>, <see cref="BBins"/> [M, 2] long; <see cref="Holds"/> [M, 4] float.
/// </summary>
public sealed record RelationProbeTargets(Tensor AIndex, Tensor BIndex, Tensor AnswerIndex, Tensor ABins, Tensor BBins, Tensor Holds) : IDisposable
{
    public long Count => AIndex.shape[0];

    public void Dispose()
    {
        AIndex.Dispose();
        BIndex.Dispose();
        AnswerIndex.Dispose();
        ABins.Dispose();
        BBins.Dispose();
        Holds.Dispose();
    }
}

/// <summary>One relation segment before packing: prompt-token indices of the two shape words, and the two objects.</summary>
public readonly record struct RelationSegment(int AToken, int BToken, SceneObject A, SceneObject B);

/// <summary>Parses relation questions and collects <see cref="RelationProbeTargets"/> while a batch is packed.</summary>
public sealed partial class RelationProbeTargetsBuilder(int bins)
{
    readonly List<long> aIndex = [], bIndex = [], answerIndex = [], aBins = [], bBins = [];
    readonly List<float> holds = [];

    [GeneratedRegex(@"^is the (?<a>[a-z]+) (?<rel>left of|right of|above|below) the (?<b>[a-z]+)\?$")]
    private static partial Regex RelationQuestion();

    /// <summary>The two shape words of a relation question, or null for any other question.</summary>
    public static (string A, string B)? ShapesOf(string question) =>
        RelationQuestion().Match(question) is { Success: true } m ? (m.Groups["a"].Value, m.Groups["b"].Value) : null;

    /// <summary>
    /// The character offsets just past the A word and past the B word in <paramref name="question"/> (a relation question).
    /// </summary>
    public static (int AEnd, int BEnd) WordEnds(string question)
    {
        var m = RelationQuestion().Match(question);
        if (!m.Success) throw new ArgumentException($"'{question}' is not a relation question");
        return (m.Groups["a"].Index + m.Groups["a"].Length, m.Groups["b"].Index + m.Groups["b"].Length);
    }

    /// <summary>Adds one relation segment whose prompt token t sits at flat packed index <c>rowBase + t − tokenOffset</c>.</summary>
    public void Add(RelationSegment segment, long flatOfToken0, int promptLength)
    {
        aIndex.Add(flatOfToken0 + segment.AToken);
        bIndex.Add(flatOfToken0 + segment.BToken);
        answerIndex.Add(flatOfToken0 + promptLength - 1);
        aBins.AddRange(Bins(segment.A));
        bBins.AddRange(Bins(segment.B));
        var held = ShapesSceneSampler.RelationsBetween(segment.A, segment.B);
        foreach (var rel in ShapesVocabulary.Relations) holds.Add(held.Contains(rel) ? 1f : 0f);
    }

    long[] Bins(SceneObject o) =>
    [
        Math.Clamp((long)(o.CenterX * bins / ShapesVocabulary.CanvasSize), 0, bins - 1),
        Math.Clamp((long)(o.CenterY * bins / ShapesVocabulary.CanvasSize), 0, bins - 1),
    ];

    /// <summary>The targets collected so far (the caller owns them), or null when the batch has no relation segment.</summary>
    public RelationProbeTargets? Build()
    {
        int m = aIndex.Count;
        if (m == 0) return null;
        return new RelationProbeTargets(
            tensor(aIndex.ToArray()), tensor(bIndex.ToArray()), tensor(answerIndex.ToArray()),
            tensor(aBins.ToArray()).view(m, 2), tensor(bBins.ToArray()).view(m, 2), tensor(holds.ToArray()).view(m, 4));
    }
}
