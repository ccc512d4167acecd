using Vgt.Evaluation;
using static Vgt.Data.ShapesWorld.ShapesVocabulary;

namespace Vgt.Data.ShapesWorld;

/// <summary>
/// One Shapes World prompt in one of the six GenEval categories (spec §5). <see cref="Shape"/> is A (or the counted
/// shape), <see cref="OtherShape"/> is B; colours are given only for colors / color_attr; <see cref="Relation"/> only
/// for position ("A rel B"). Build with the factory methods, which check the category's constraints.
/// </summary>
public sealed record ShapesPrompt
{
    public string Tag { get; }
    public string Shape { get; }
    public string? OtherShape { get; }
    public string? Color { get; }
    public string? OtherColor { get; }
    public int Count { get; }
    public string? Relation { get; }

    ShapesPrompt(string tag, string shape, string? otherShape = null, string? color = null, string? otherColor = null, int count = 1, string? relation = null)
    {
        Tag = tag; Shape = shape; OtherShape = otherShape; Color = color; OtherColor = otherColor; Count = count; Relation = relation;
    }

    public static ShapesPrompt SingleObject(string shape) => new("single_object", CheckShape(shape));

    public static ShapesPrompt TwoObject(string a, string b) => new("two_object", CheckShape(a), CheckDistinct(a, CheckShape(b), "shapes"));

    public static ShapesPrompt Counting(string shape, int count)
    {
        if (count < 2 || count > 4) throw new ArgumentException($"Counting prompts use two, three or four objects, got {count}.");
        return new("counting", CheckShape(shape), count: count);
    }

    public static ShapesPrompt Colors(string color, string shape) => new("colors", CheckShape(shape), color: CheckColor(color));

    public static ShapesPrompt Position(string a, string relation, string b)
    {
        if (!ShapesVocabulary.Relations.Contains(relation))
            throw new ArgumentException($"'{relation}' is not a relation; expected one of: {string.Join(", ", ShapesVocabulary.Relations)}.");
        return new("position", CheckShape(a), CheckDistinct(a, CheckShape(b), "shapes"), relation: relation);
    }

    public static ShapesPrompt ColorAttr(string c1, string a, string c2, string b) =>
        new("color_attr", CheckShape(a), CheckDistinct(a, CheckShape(b), "shapes"), CheckColor(c1), CheckDistinct(c1, CheckColor(c2), "colours"));

    static string CheckShape(string s) => IsShape(s) ? s : throw new ArgumentException($"'{s}' is not a Shapes World shape; expected one of: {string.Join(", ", Shapes)}.");
    static string CheckColor(string c) => IsColor(c) ? c : throw new ArgumentException($"'{c}' is not a Shapes World colour; expected one of: {string.Join(", ", ShapesVocabulary.Colors)}.");
    static string CheckDistinct(string a, string b, string what) => a != b ? b : throw new ArgumentException($"The two {what} of this category must differ, got '{a}' twice.");

    /// <summary>The prompt text with GenEval's template (spec §5).</summary>
    public string Text => Tag switch
    {
        "single_object" => $"a photo of {Np(null, Shape)}",
        "two_object" => $"a photo of {Np(null, Shape)} and {Np(null, OtherShape!)}",
        "counting" => $"a photo of {NumberWords[Count]} {Plural(Shape)}",
        "colors" => $"a photo of {Np(Color, Shape)}",
        "position" => $"a photo of {Np(null, Shape)} {Relation} {Np(null, OtherShape!)}",
        "color_attr" => $"a photo of {Np(Color, Shape)} and {Np(OtherColor, OtherShape!)}",
        _ => throw new InvalidOperationException($"Unknown tag {Tag}."),
    };

    /// <summary>"a circle", "an orange square": the article, the optional colour and the shape, as GenEval words them.</summary>
    internal static string Np(string? color, string shape)
    {
        string words = color is null ? shape : $"{color} {shape}";
        return $"{Article(words)} {words}";
    }

    /// <summary>The GenEval metadata of this prompt (spec §5 table).</summary>
    public GenEvalMetadata Metadata => Tag switch
    {
        "single_object" => new(Tag, [new(Shape, 1)], null, Text),
        "two_object" => new(Tag, [new(Shape, 1), new(OtherShape!, 1)], null, Text),
        "counting" => new(Tag, [new(Shape, Count)], [new(Shape, Count + 1)], Text),
        "colors" => new(Tag, [new(Shape, 1, Color)], null, Text),
        "position" => new(Tag, [new(OtherShape!, 1), new(Shape, 1, null, new GenEvalPosition(Relation!, 0))], null, Text),
        "color_attr" => new(Tag, [new(Shape, 1, Color), new(OtherShape!, 1, OtherColor)], null, Text),
        _ => throw new InvalidOperationException($"Unknown tag {Tag}."),
    };

    /// <summary>
    /// The prompt a metadata line describes. The line must be exactly what this prompt's metadata would be
    /// (same tag, clauses and prompt text); otherwise an error says what differs.
    /// </summary>
    public static ShapesPrompt FromMetadata(GenEvalMetadata metadata, string where = "<metadata>")
    {
        ShapesPrompt prompt;
        try
        {
            prompt = ShapesPromptParser.Parse(metadata.Prompt);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{where}: the prompt is not a Shapes World prompt: {e.Message}");
        }
        string expected = prompt.Metadata.ToJsonLine(), actual = metadata.ToJsonLine();
        if (expected != actual)
            throw new InvalidDataException($"{where}: the metadata does not match its prompt '{metadata.Prompt}'. Expected {expected}, got {actual}.");
        return prompt;
    }

    /// <summary>Every distinct prompt of a category, in canonical order (shapes, colours, numbers, relations as listed in the vocabulary).</summary>
    public static IReadOnlyList<ShapesPrompt> All(string tag)
    {
        var list = new List<ShapesPrompt>();
        switch (tag)
        {
            case "single_object":
                foreach (var s in Shapes) list.Add(SingleObject(s));
                break;
            case "two_object":
                foreach (var a in Shapes) foreach (var b in Shapes) if (a != b) list.Add(TwoObject(a, b));
                break;
            case "counting":
                foreach (var s in Shapes) for (int n = 2; n <= 4; n++) list.Add(Counting(s, n));
                break;
            case "colors":
                foreach (var c in ShapesVocabulary.Colors) foreach (var s in Shapes) list.Add(Colors(c, s));
                break;
            case "position":
                foreach (var a in Shapes) foreach (var r in ShapesVocabulary.Relations) foreach (var b in Shapes) if (a != b) list.Add(Position(a, r, b));
                break;
            case "color_attr":
                foreach (var c1 in ShapesVocabulary.Colors) foreach (var a in Shapes) foreach (var c2 in ShapesVocabulary.Colors) foreach (var b in Shapes)
                    if (a != b && c1 != c2) list.Add(ColorAttr(c1, a, c2, b));
                break;
            default:
                throw new ArgumentException($"Unknown category '{tag}'; expected one of: {string.Join(", ", Categories)}.");
        }
        return list;
    }

    public override string ToString() => Text;
}
