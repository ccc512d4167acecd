using static Vgt.Data.ShapesWorld.ShapesVocabulary;

namespace Vgt.Data.ShapesWorld;

/// <summary>
/// Parses prompt text in the Shapes World grammar (GenEval's six templates, spec §5) into a <see cref="ShapesPrompt"/>,
/// so that a prompt typed by a user can be rendered and scored. Case, surrounding/repeated spaces and one trailing
/// full stop are forgiven; every word is otherwise checked, and text outside the grammar gets a
/// <see cref="FormatException"/> saying which word is wrong and what was expected.
/// </summary>
public static class ShapesPromptParser
{
    public const string Grammar =
        "Shapes World prompts (shapes: circle, square, triangle, diamond; colours: red, orange, yellow, green, blue, purple, pink, brown):\n" +
        "  a photo of a {shape}                                  e.g. a photo of a circle\n" +
        "  a photo of a {shape} and a {other shape}              e.g. a photo of a circle and a square\n" +
        "  a photo of {two|three|four} {shape}s                  e.g. a photo of three triangles\n" +
        "  a photo of a {colour} {shape}                         e.g. a photo of an orange diamond\n" +
        "  a photo of a {shape} {left of|right of|above|below} a {other shape}\n" +
        "  a photo of a {colour} {shape} and a {other colour} {other shape}\n" +
        "('an' before a vowel, 'a' otherwise)";

    public static ShapesPrompt Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var norm = string.Join(' ', text.Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (norm.EndsWith('.')) norm = norm[..^1].TrimEnd();
        var words = norm.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var p = new Cursor(text, words);

        p.Expect("a"); p.Expect("photo"); p.Expect("of");
        if (p.Peek is "two" or "three" or "four")
        {
            int n = NumberWords.ToList().IndexOf(p.Next());
            string plural = p.Next("a plural shape (circles, squares, triangles, diamonds)");
            string? shape = Shapes.FirstOrDefault(s => Plural(s) == plural);
            if (shape is null) throw p.Error(p.Index - 1, "a plural shape (circles, squares, triangles, diamonds)");
            p.End();
            return ShapesPrompt.Counting(shape, n);
        }

        var (colorA, shapeA) = p.NounPhrase();
        if (p.AtEnd)
            return colorA is null ? ShapesPrompt.SingleObject(shapeA) : ShapesPrompt.Colors(colorA, shapeA);

        if (p.Peek == "and")
        {
            p.Next();
            int at = p.Index;
            var (colorB, shapeB) = p.NounPhrase();
            p.End();
            if ((colorA is null) != (colorB is null))
                throw p.Fail(at, "either both objects or neither must have a colour");
            return Build(p, at, () => colorA is null ? ShapesPrompt.TwoObject(shapeA, shapeB) : ShapesPrompt.ColorAttr(colorA, shapeA, colorB!, shapeB));
        }

        int relAt = p.Index;
        string relation = p.Next("'and' or a relation (left of, right of, above, below)") switch
        {
            "left" => p.Expect("of", "left of"),
            "right" => p.Expect("of", "right of"),
            "above" => "above",
            "below" => "below",
            _ => throw p.Error(relAt, "'and' or a relation (left of, right of, above, below)"),
        };
        if (colorA is not null) throw p.Fail(relAt, "position prompts name shapes without colours");
        int bAt = p.Index;
        var (colorRel, shapeRel) = p.NounPhrase();
        p.End();
        if (colorRel is not null) throw p.Fail(bAt, "position prompts name shapes without colours");
        return Build(p, bAt, () => ShapesPrompt.Position(shapeA, relation, shapeRel));
    }

    /// <summary>True when <paramref name="text"/> parses; <paramref name="error"/> otherwise holds the message.</summary>
    public static bool TryParse(string text, out ShapesPrompt? prompt, out string? error)
    {
        try
        {
            prompt = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            prompt = null;
            error = e.Message;
            return false;
        }
    }

    static ShapesPrompt Build(Cursor p, int at, Func<ShapesPrompt> make)
    {
        try
        {
            return make();
        }
        catch (ArgumentException e)
        {
            throw p.Fail(at, e.Message.TrimEnd('.'));
        }
    }

    sealed class Cursor(string original, string[] words)
    {
        public int Index { get; private set; }
        public bool AtEnd => Index >= words.Length;
        public string? Peek => AtEnd ? null : words[Index];

        public string Next(string expected = "another word")
        {
            if (AtEnd) throw Error(Index, expected);
            return words[Index++];
        }

        public string Expect(string word, string? result = null)
        {
            if (Peek != word) throw Error(Index, $"'{word}'");
            Index++;
            return result ?? word;
        }

        public void End()
        {
            if (!AtEnd) throw Error(Index, "the end of the prompt");
        }

        /// <summary>{a|an} [colour] shape, with the article matching the next word.</summary>
        public (string? Color, string Shape) NounPhrase()
        {
            int articleAt = Index;
            string article = Next("'a' or 'an'");
            if (article is not ("a" or "an")) throw Error(articleAt, "'a' or 'an'");
            string? color = null;
            if (Peek is { } w && IsColor(w)) color = Next();
            int shapeAt = Index;
            string shape = Next("a shape (circle, square, triangle, diamond)");
            if (!IsShape(shape)) throw Error(shapeAt, color is null ? "a colour or a shape (circle, square, triangle, diamond)" : "a shape (circle, square, triangle, diamond)");
            string first = color ?? shape;
            if (Article(first) != article) throw Fail(articleAt, $"'{Article(first)}' goes before '{first}', not '{article}'");
            return (color, shape);
        }

        public FormatException Error(int at, string expected)
        {
            string found = at < words.Length ? $"found '{words[at]}'" : "found the end of the prompt";
            return Fail(at, $"expected {expected}, {found}");
        }

        public FormatException Fail(int at, string problem) =>
            new($"The prompt \"{original}\" is outside the Shapes World grammar at word {at + 1}: {problem}.\n{Grammar}");
    }
}
