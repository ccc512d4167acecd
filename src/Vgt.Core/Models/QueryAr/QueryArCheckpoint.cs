using System.Text.RegularExpressions;
using Vgt.Checkpoints;

namespace Vgt.Models.QueryAr;

/// <summary>What loading an official VGT-AR checkpoint did: the load itself and the keys skipped on purpose, by group.</summary>
public sealed record QueryArLoadReport(LoadReport Load, IReadOnlyDictionary<string, int> Skipped)
{
    public override string ToString()
    {
        var skipped = Skipped.Count == 0 ? "nothing skipped" : "skipped " + string.Join(", ", Skipped.Select(kv => $"{kv.Value} {kv.Key}"));
        return $"{Load}\n{skipped}";
    }
}

/// <summary>
/// Loads the official VGT-AR (InternVL3) checkpoints (§9.6): an mmengine dict whose <c>ema_state_dict</c> (preferred)
/// or <c>state_dict</c> uses the reference names (Appendix A), EMA keys with a leading <c>module.</c> (stripped) and
/// an extra <c>steps</c>. The module's names are the checkpoint's own, so no renames are needed. Skipped and reported:
/// the AE (<c>vgt_ae.*</c>), DINOv3 (<c>dinov3_extractor.*</c>), the unused frozen <c>lmm.language_model.lm_head</c>,
/// the REPA projector when the model has none, and <c>steps</c>. Every other key must match (strict by default).
/// </summary>
public static class QueryArCheckpoint
{
    /// <summary>Skipped key groups: (label, regex over keys after <c>module.</c> is stripped).</summary>
    public static IReadOnlyList<(string Label, string Pattern)> SkipGroups(QueryArModel model)
    {
        var groups = new List<(string, string)>
        {
            ("vgt_ae (autoencoder)", @"^vgt_ae\."),
            ("dinov3_extractor (REPA teacher)", @"^dinov3_extractor\."),
            ("lm_head (unused)", @"^lmm\.language_model\.lm_head\."),
            ("ema steps counter", @"^steps$"),
        };
        if (model.Config.Head.Repa is null) groups.Add(("repa_projector (training only)", @"^image_head\.net\.repa_projector\."));
        return groups;
    }

    /// <summary>Opens <paramref name="path"/> (EMA weights preferred) and loads it into <paramref name="model"/>.</summary>
    public static QueryArLoadReport Load(QueryArModel model, string path, bool preferEma = true, bool strict = true)
    {
        using var checkpoint = CheckpointReader.Open(path, new CheckpointOpenOptions { PreferEma = preferEma });
        return Load(model, checkpoint, strict);
    }

    public static QueryArLoadReport Load(QueryArModel model, ICheckpoint checkpoint, bool strict = true)
    {
        var groups = SkipGroups(model);
        var regexes = groups.Select(g => (g.Label, Regex: new Regex(g.Pattern, RegexOptions.CultureInvariant))).ToList();
        var names = checkpoint.Names.Select(k => k.StartsWith("module.", StringComparison.Ordinal) ? k["module.".Length..] : k).ToList();
        var skipped = new Dictionary<string, int>();   // in the order of SkipGroups
        foreach (var (label, regex) in regexes)
        {
            int count = names.Count(regex.IsMatch);
            if (count > 0) skipped[label] = count;
        }
        var options = new LoadOptions { Strict = strict, StripModulePrefix = true, Ignore = groups.Select(g => g.Pattern).ToList() };
        var report = StateDictLoader.Load(model, checkpoint, options);
        return new QueryArLoadReport(report, skipped);
    }
}
