using Vgt.Runtime;

namespace Vgt.Data.ShapesWorld;

/// <summary>
/// The mini-GenEval benchmark shapes-geneval v1 (spec §8): every distinct prompt of single_object (4), two_object (12),
/// counting (12), colors (32) and position (48), and 100 of the 672 color_attr prompts drawn with
/// <see cref="ColorAttrSeed"/> — 208 prompts, one GenEval metadata line each, in GenEval's category order.
/// The committed file benchmarks/shapes-geneval-v1/evaluation_metadata.jsonl is this list.
/// </summary>
public static class ShapesBenchmark
{
    public const string Name = "shapes-geneval-v1";
    public const long ColorAttrSeed = 208;
    public const int ColorAttrPrompts = 100;
    public const int ImagesPerPrompt = 4;

    public static IReadOnlyList<ShapesPrompt> PromptsV1()
    {
        var list = new List<ShapesPrompt>();
        foreach (var tag in ShapesVocabulary.Categories)
        {
            var all = ShapesPrompt.All(tag);
            if (tag != "color_attr")
            {
                list.AddRange(all);
                continue;
            }
            // Fisher–Yates shuffle of the 672 candidates with a fixed seed; the first 100, kept in canonical order.
            var order = Enumerable.Range(0, all.Count).ToArray();
            var rng = new VgtSeed(ColorAttrSeed).DotNetRandom("shapes-geneval-v1/color_attr");
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            list.AddRange(order.Take(ColorAttrPrompts).Order().Select(i => all[i]));
        }
        return list;
    }

    /// <summary>The benchmark file's text: one metadata line per prompt, each ending with "\n".</summary>
    public static string MetadataFileV1() => string.Concat(PromptsV1().Select(p => p.Metadata.ToJsonLine() + "\n"));
}
