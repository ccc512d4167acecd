namespace Vgt.Data.ShapesWorld;

/// <summary>An sRGB colour, 8 bits per channel.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public double DistanceTo(double r, double g, double b)
    {
        double dr = R - r, dg = G - g, db = B - b;
        return Math.Sqrt(dr * dr + dg * dg + db * db);
    }

    public override string ToString() => $"({R}, {G}, {B})";
}

/// <summary>
/// The fixed words and numbers of Shapes World v1 (shared/specs/shapes-world.md §1–§5): canvas size,
/// the eight-colour palette, the four shapes, number words, relations and the English helpers
/// (articles, plurals) that the prompts and captions use.
/// </summary>
public static class ShapesVocabulary
{
    /// <summary>Benchmark canvas side (§1); other sizes scale every length by size/64.</summary>
    public const int CanvasSize = 64;
    public const int MinSide = 12, MaxSide = 20;        // §3, object box side s
    public const int Margin = 2;                         // §4, boxes lie inside [2, 62)
    public const int MinGap = 3;                         // §4, gap between boxes on at least one axis
    public const double RelationMargin = 0.7;            // §4, normalised component of a rendered relation
    public const int BackgroundMin = 200, BackgroundMax = 245, BackgroundJitter = 6; // §1
    public const int ColorJitter = 10;                   // §2

    /// <summary>Shape names in canonical order (§3).</summary>
    public static readonly IReadOnlyList<string> Shapes = ["circle", "square", "triangle", "diamond"];

    /// <summary>Palette names in canonical order (§2).</summary>
    public static readonly IReadOnlyList<string> Colors = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"];

    static readonly Rgb[] PaletteRgb =
    [
        new(215, 38, 38), new(240, 130, 20), new(230, 200, 25), new(40, 160, 60),
        new(35, 75, 215), new(130, 50, 170), new(240, 110, 175), new(120, 70, 35),
    ];

    /// <summary>The relations of the position category, as written in prompts and metadata (§5).</summary>
    public static readonly IReadOnlyList<string> Relations = ["left of", "right of", "above", "below"];

    /// <summary>The six GenEval categories in GenEval's order.</summary>
    public static readonly IReadOnlyList<string> Categories = ["single_object", "two_object", "counting", "colors", "position", "color_attr"];

    /// <summary>Count words for captions and answers, index = count.</summary>
    public static readonly IReadOnlyList<string> NumberWords = ["zero", "one", "two", "three", "four"];

    public static Rgb Palette(string color)
    {
        int i = IndexOf(Colors, color, "colour");
        return PaletteRgb[i];
    }

    /// <summary>The index of <paramref name="color"/> in <see cref="Colors"/>; throws for a word that is not one.</summary>
    public static int ColorIndex(string color) => IndexOf(Colors, color, "colour");

    /// <summary>The index of <paramref name="shape"/> in <see cref="Shapes"/>; throws for a word that is not one.</summary>
    public static int ShapeIndex(string shape) => IndexOf(Shapes, shape, "shape");

    public static bool IsShape(string word) => Shapes.Contains(word);
    public static bool IsColor(string word) => Colors.Contains(word);

    public static string Plural(string shape) => shape + "s";

    /// <summary>"an" before a word starting with a vowel, otherwise "a" (§5).</summary>
    public static string Article(string nextWord) => nextWord.Length > 0 && "aeiou".Contains(nextWord[0]) ? "an" : "a";

    static int IndexOf(IReadOnlyList<string> list, string word, string what)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == word) return i;
        throw new ArgumentException($"'{word}' is not a Shapes World {what}; expected one of: {string.Join(", ", list)}.");
    }
}
