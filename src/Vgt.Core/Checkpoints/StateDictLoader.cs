using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>How checkpoint names are matched to a module's state dict.</summary>
public sealed record LoadOptions
{
    /// <summary>Strict: any missing, unexpected or shape-mismatched key throws and nothing is loaded. Partial: load what matches, report the rest.</summary>
    public bool Strict { get; init; } = true;

    /// <summary>Strip a leading <c>module.</c> (DataParallel / mmengine EMA copies) from checkpoint keys first.</summary>
    public bool StripModulePrefix { get; init; } = true;

    /// <summary>Use only checkpoint keys under this prefix (e.g. <c>vgt_ae.</c>), with the prefix removed; other keys are skipped, not reported.</summary>
    public string? Prefix { get; init; }

    /// <summary>Prepended to every checkpoint key after <see cref="Prefix"/> is removed.</summary>
    public string? AddPrefix { get; init; }

    /// <summary>Regex rewrites (pattern, replacement), applied in order after the prefixes (e.g. <c>("^mlp1\\.", "proj.")</c>).</summary>
    public IReadOnlyList<(string Pattern, string Replacement)> Renames { get; init; } = [];

    /// <summary>Regexes over the renamed checkpoint keys to leave out entirely (e.g. <c>^steps$</c> of an mmengine EMA dict).</summary>
    public IReadOnlyList<string> Ignore { get; init; } = [];
}

/// <summary>A parameter or buffer whose checkpoint tensor has another shape.</summary>
public sealed record ShapeMismatch(string Name, long[] Expected, long[] Found)
{
    public override string ToString() => $"{Name}: module {TensorInfo.ShapeText(Expected)}, checkpoint {TensorInfo.ShapeText(Found)}";
}

/// <summary>What a load did. Names are module names; <see cref="Unexpected"/> lists renamed checkpoint keys.</summary>
public sealed record LoadReport(
    string Source,
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<ShapeMismatch> Mismatched,
    int SkippedOutsidePrefix,
    int Ignored)
{
    public bool IsComplete => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    public override string ToString()
    {
        var sb = new StringBuilder($"Loaded {Loaded.Count} tensors from {Source}");
        if (SkippedOutsidePrefix > 0) sb.Append($"; {SkippedOutsidePrefix} keys outside the prefix skipped");
        if (Ignored > 0) sb.Append($"; {Ignored} keys ignored");
        sb.AppendLine(IsComplete ? "; all keys matched." : ".");
        Section(sb, "Missing (in the module, not in the checkpoint)", Missing.Select(m => m));
        Section(sb, "Unexpected (in the checkpoint, not in the module)", Unexpected.Select(u => u));
        Section(sb, "Shape mismatches (not loaded)", Mismatched.Select(m => m.ToString()));
        return sb.ToString().TrimEnd();
    }

    /// <summary>The first few problems, one per line, for exception messages.</summary>
    public string Summary(int max = 5)
    {
        var lines = Missing.Select(m => $"missing: {m}")
            .Concat(Unexpected.Select(u => $"unexpected: {u}"))
            .Concat(Mismatched.Select(m => $"shape mismatch: {m}"))
            .ToList();
        var shown = string.Join("\n  ", lines.Take(max));
        return lines.Count > max ? $"{shown}\n  … and {lines.Count - max} more" : shown;
    }

    private static void Section(StringBuilder sb, string title, IEnumerable<string> items)
    {
        var list = items.ToList();
        if (list.Count == 0) return;
        sb.AppendLine($"{title}: {list.Count}");
        foreach (var item in list.Take(20)) sb.AppendLine($"  {item}");
        if (list.Count > 20) sb.AppendLine($"  … and {list.Count - 20} more");
    }
}

/// <summary>Copies checkpoint tensors into a module's parameters and buffers, converting dtype (bf16/f16 → the module's).</summary>
public static class StateDictLoader
{
    /// <summary>Opens <paramref name="path"/> (see <see cref="CheckpointReader.Open"/>) and loads it into <paramref name="module"/>.</summary>
    public static LoadReport LoadFile(nn.Module module, string path, LoadOptions? options = null, CheckpointOpenOptions? open = null)
    {
        using var checkpoint = CheckpointReader.Open(path, open);
        return Load(module, checkpoint, options);
    }

    /// <summary>
    /// Matches renamed checkpoint keys to <c>module.state_dict()</c> names, then (unless strict mode fails) copies
    /// every matching tensor in place, one at a time. Strict mode throws <see cref="CheckpointLoadException"/>
    /// naming the first problems before anything is copied.
    /// </summary>
    public static LoadReport Load(nn.Module module, ICheckpoint checkpoint, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        var renames = options.Renames.Select(r => (new Regex(r.Pattern, RegexOptions.CultureInvariant), r.Replacement)).ToList();
        var ignore = options.Ignore.Select(p => new Regex(p, RegexOptions.CultureInvariant)).ToList();

        // checkpoint key → target name
        var targetOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var sourceOf = new Dictionary<string, string>(StringComparer.Ordinal);
        int outside = 0, ignored = 0;
        foreach (var key in checkpoint.Names)
        {
            var name = key;
            if (options.StripModulePrefix && name.StartsWith("module.", StringComparison.Ordinal)) name = name["module.".Length..];
            if (options.Prefix is { Length: > 0 } prefix)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) { outside++; continue; }
                name = name[prefix.Length..];
            }
            name = (options.AddPrefix ?? "") + name;
            foreach (var (regex, replacement) in renames) name = regex.Replace(name, replacement);
            if (ignore.Any(r => r.IsMatch(name))) { ignored++; continue; }
            if (sourceOf.TryGetValue(name, out var other))
                throw new ArgumentException($"Checkpoint '{checkpoint.Path}': keys '{other}' and '{key}' both map to '{name}'; add an Ignore pattern or a rename");
            sourceOf[name] = key;
            targetOf[key] = name;
        }

        var stateDict = module.state_dict();
        var missing = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        var loadable = new List<(string Target, string Source)>();
        foreach (var (name, target) in stateDict)
        {
            if (!sourceOf.TryGetValue(name, out var source)) { missing.Add(name); continue; }
            var found = checkpoint.Info(source).Shape;
            if (!found.SequenceEqual(target.shape)) mismatched.Add(new ShapeMismatch(name, target.shape, found));
            else loadable.Add((name, source));
        }
        var unexpected = sourceOf.Keys.Where(n => !stateDict.ContainsKey(n)).ToList();
        var report = new LoadReport($"'{checkpoint.Path}'" + (checkpoint.StateDictKey.Length > 0 ? $" [{checkpoint.StateDictKey}]" : ""),
            loadable.Select(l => l.Target).ToList(), missing, unexpected, mismatched, outside, ignored);

        if (options.Strict && !report.IsComplete)
            throw new CheckpointLoadException(report,
                $"Checkpoint {report.Source} does not match the module (strict load, nothing loaded):\n  {report.Summary()}");

        using (no_grad())
        {
            foreach (var (name, source) in loadable)
            {
                using var scope = NewDisposeScope();
                var target = stateDict[name];
                var value = checkpoint.Load(source, dtype: null);
                target.copy_(value); // converts dtype and device
            }
        }
        return report;
    }
}
