using Vgt.Evaluation;

namespace Vgt.Tests.ShapesWorld;

public class MetadataTests
{
    // Verbatim lines of GenEval's evaluation_metadata.jsonl, one per category.
    [Theory]
    [InlineData("{\"tag\": \"single_object\", \"include\": [{\"class\": \"bench\", \"count\": 1}], \"prompt\": \"a photo of a bench\"}")]
    [InlineData("{\"tag\": \"two_object\", \"include\": [{\"class\": \"bench\", \"count\": 1}, {\"class\": \"sports ball\", \"count\": 1}], \"prompt\": \"a photo of a bench and a sports ball\"}")]
    [InlineData("{\"tag\": \"counting\", \"include\": [{\"class\": \"clock\", \"count\": 2}], \"exclude\": [{\"class\": \"clock\", \"count\": 3}], \"prompt\": \"a photo of two clocks\"}")]
    [InlineData("{\"tag\": \"colors\", \"include\": [{\"class\": \"fire hydrant\", \"count\": 1, \"color\": \"blue\"}], \"prompt\": \"a photo of a blue fire hydrant\"}")]
    [InlineData("{\"tag\": \"position\", \"include\": [{\"class\": \"teddy bear\", \"count\": 1}, {\"class\": \"dog\", \"count\": 1, \"position\": [\"right of\", 0]}], \"prompt\": \"a photo of a dog right of a teddy bear\"}")]
    [InlineData("{\"tag\": \"color_attr\", \"include\": [{\"class\": \"wine glass\", \"count\": 1, \"color\": \"purple\"}, {\"class\": \"apple\", \"count\": 1, \"color\": \"black\"}], \"prompt\": \"a photo of a purple wine glass and a black apple\"}")]
    public void GenEvalLinesRoundTripByteForByte(string line) => Assert.Equal(line, GenEvalMetadata.ParseLine(line).ToJsonLine());

    [Fact]
    public void ParsedFieldsAreRead()
    {
        var m = GenEvalMetadata.ParseLine("{\"tag\": \"position\", \"include\": [{\"class\": \"square\", \"count\": 1}, {\"class\": \"circle\", \"count\": 1, \"position\": [\"above\", 0]}], \"prompt\": \"a photo of a circle above a square\"}");
        Assert.Equal("position", m.Tag);
        Assert.Equal(new GenEvalClause("square", 1), m.Include[0]);
        Assert.Equal(new GenEvalClause("circle", 1, null, new GenEvalPosition("above", 0)), m.Include[1]);
        Assert.Null(m.Exclude);
    }

    [Fact]
    public void NonAsciiIsEscapedAsPythonDoes()
    {
        var m = new GenEvalMetadata("single_object", [new GenEvalClause("caf\u00e9", 1)], null, "a \"photo\" of a caf\u00e9\\");
        Assert.Equal("{\"tag\": \"single_object\", \"include\": [{\"class\": \"caf\\u00e9\", \"count\": 1}], \"prompt\": \"a \\\"photo\\\" of a caf\\u00e9\\\\\"}", m.ToJsonLine());
        Assert.Equal(m.ToJsonLine(), GenEvalMetadata.ParseLine(m.ToJsonLine()).ToJsonLine());
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object, got Array")]
    [InlineData("{\"tag\": \"colors\", \"prompt\": \"p\"}", "missing key \"include\"")]
    [InlineData("{\"tag\": \"colors\", \"include\": [], \"prompt\": \"p\"}", "\"include\" must list at least one clause")]
    [InlineData("{\"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": 0}], \"prompt\": \"p\"}", "include[0].count must be a positive integer, got 0")]
    [InlineData("{\"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": \"1\"}], \"prompt\": \"p\"}", "include[0].count must be a positive integer, got \"1\"")]
    [InlineData("{\"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": 1.5}], \"prompt\": \"p\"}", "include[0].count must be a positive integer, got 1.5")]
    [InlineData("{\"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": 1, \"colour\": \"red\"}], \"prompt\": \"p\"}", "unknown key \"colour\" in include[0]")]
    [InlineData("{\"tag\": \"colors\", \"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": 1}], \"prompt\": \"p\"}", "key \"tag\" appears twice")]
    [InlineData("{\"tag\": \"sizes\", \"include\": [{\"class\": \"circle\", \"count\": 1}], \"prompt\": \"p\"}", "unknown tag 'sizes'")]
    [InlineData("{\"tag\": \"colors\", \"include\": [{\"class\": \"circle\", \"count\": 1}]}", "missing key \"prompt\"")]
    [InlineData("{\"tag\": \"colors\", \"include\": [{\"count\": 1}], \"prompt\": \"p\"}", "missing key \"include[0].class\"")]
    [InlineData("{\"tag\": \"position\", \"include\": [{\"class\": \"a\", \"count\": 1}, {\"class\": \"b\", \"count\": 1, \"position\": [\"near\", 0]}], \"prompt\": \"p\"}", "include[1].position relation 'near' is not one of")]
    [InlineData("{\"tag\": \"position\", \"include\": [{\"class\": \"a\", \"count\": 1}, {\"class\": \"b\", \"count\": 1, \"position\": [\"above\", 1]}], \"prompt\": \"p\"}", "refers to include clause 1, which is not an earlier clause")]
    [InlineData("{\"tag\": \"position\", \"include\": [{\"class\": \"a\", \"count\": 1, \"position\": \"above\"}], \"prompt\": \"p\"}", "include[0].position must be [relation, clause index]")]
    [InlineData("{\"tag\": \"counting\", \"include\": [{\"class\": \"a\", \"count\": 2}], \"exclude\": [{\"class\": \"a\", \"count\": 3, \"position\": [\"above\", 0]}], \"prompt\": \"p\"}", "unknown key \"position\" in exclude[0]")]
    public void MalformedLinesGetErrorsNamingSourceAndLine(string line, string fragment)
    {
        var e = Assert.Throws<InvalidDataException>(() => GenEvalMetadata.ParseLine(line, "meta.jsonl", 7));
        Assert.StartsWith("meta.jsonl:7: ", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void ReadFileNamesTheBadLine()
    {
        var dir = ShapesTestUtil.TempDir();
        var path = Path.Combine(dir, "m.jsonl");
        File.WriteAllText(path,
            "{\"tag\": \"single_object\", \"include\": [{\"class\": \"circle\", \"count\": 1}], \"prompt\": \"a photo of a circle\"}\n\n" +
            "{\"tag\": \"single_object\", \"include\": [{\"class\": \"circle\", \"count\": -1}], \"prompt\": \"a photo of a circle\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => GenEvalMetadata.ReadFile(path));
        Assert.StartsWith($"{path}:3: malformed GenEval metadata: include[0].count must be a positive integer, got -1", e.Message);
        Directory.Delete(dir, true);
    }
}
