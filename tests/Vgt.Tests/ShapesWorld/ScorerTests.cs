using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

public class ScorerTests
{
    static DetectedObject Obj(string cls, double cx, double cy, double size = 10, string color = "red") =>
        new(cls, color, cx - size / 2, cy - size / 2, size, size);

    [Fact]
    public void DirectionShrinksEachAxisThenNormalises()
    {
        // offset (−30, 8); shrink by 0.1·(10+10) = 2 → (−28, 6); length √(784+36) = 28.636
        var d = GenEvalScorer.Direction(10, 38, 10, 10, 40, 30, 10, 10)!.Value;
        Assert.Equal(-28 / Math.Sqrt(820), d.Dx, 12);
        Assert.Equal(6 / Math.Sqrt(820), d.Dy, 12);
        Assert.Equal(["left of"], GenEvalScorer.Relations(d));
        // offset (1.5, −1.9) shrinks to (0, 0): no relation.
        Assert.Null(GenEvalScorer.Direction(11.5, 8.1, 10, 10, 10, 10, 10, 10));
        Assert.Empty(GenEvalScorer.Relations(Obj("a", 11.5, 8.1), Obj("b", 10, 10)));
        // diagonal: both relations hold
        Assert.Equal(["right of", "below"], GenEvalScorer.Relations(Obj("a", 40, 40), Obj("b", 10, 10)));
        Assert.Equal(0.8, GenEvalScorer.Component("below", (0.6, 0.8)), 12);
        Assert.Equal(-0.6, GenEvalScorer.Component("left of", (0.6, 0.8)), 12);
    }

    [Fact]
    public void CountingUsesIncludeAndExclude()
    {
        var m = GenEvalMetadata.ParseLine("{\"tag\": \"counting\", \"include\": [{\"class\": \"circle\", \"count\": 2}], \"exclude\": [{\"class\": \"circle\", \"count\": 3}], \"prompt\": \"a photo of two circles\"}");
        Assert.True(GenEvalScorer.Judge(m, [Obj("circle", 10, 10), Obj("circle", 40, 40), Obj("square", 10, 40)]).Correct);
        Assert.Equal("include[0]: found 1 circle, need 2", GenEvalScorer.Judge(m, [Obj("circle", 10, 10), Obj("square", 40, 40)]).Reason);
        Assert.Equal("exclude[0]: found 3 circle, must be fewer than 3",
            GenEvalScorer.Judge(m, [Obj("circle", 10, 10), Obj("circle", 40, 40), Obj("circle", 10, 40)]).Reason);
    }

    [Fact]
    public void ColourMustMatchAndUnknownNeverMatches()
    {
        var m = GenEvalMetadata.ParseLine("{\"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": 1, \"color\": \"red\"}], \"prompt\": \"a photo of a red circle\"}");
        Assert.True(GenEvalScorer.Judge(m, [Obj("circle", 10, 10, color: "red")]).Correct);
        Assert.Equal("include[0]: found 0 red circle, need 1", GenEvalScorer.Judge(m, [Obj("circle", 10, 10, color: "unknown")]).Reason);
    }

    [Fact]
    public void EveryCandidateMustStandInTheRelationToEveryMatchedObject()
    {
        var m = GenEvalMetadata.ParseLine("{\"tag\": \"position\", \"include\": [{\"class\": \"square\", \"count\": 1}, {\"class\": \"circle\", \"count\": 1, \"position\": [\"left of\", 0]}], \"prompt\": \"a photo of a circle left of a square\"}");
        Assert.True(GenEvalScorer.Judge(m, [Obj("square", 40, 30), Obj("circle", 10, 30)]).Correct);
        Assert.False(GenEvalScorer.Judge(m, [Obj("square", 40, 30), Obj("circle", 50, 30)]).Correct);
        // a second circle on the wrong side fails the clause, as in GenEval
        var v = GenEvalScorer.Judge(m, [Obj("square", 40, 30), Obj("circle", 10, 30), Obj("circle", 55, 30)]);
        Assert.False(v.Correct);
        Assert.Equal("include[1]: circle at (55, 30) is not left of square at (40, 30)", v.Reason);
        // and so does a second square the circle is not left of
        Assert.False(GenEvalScorer.Judge(m, [Obj("square", 40, 30), Obj("square", 5, 50), Obj("circle", 20, 30)]).Correct);
    }
}
