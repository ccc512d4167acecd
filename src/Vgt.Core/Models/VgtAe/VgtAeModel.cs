using System.Text.RegularExpressions;
using System.Text;
using TorchSharp;
using Vgt.Checkpoints;
using Vgt.Config;
using Vgt.Models.DcAe;
using Vgt.Models.InternVl;
using Vgt.Runtime;
using static TorchSharp.torch;

namespace Vgt.Models.VgtAe;

/// <summary>
/// Building, loading and saving VGT-AE models.
/// A model directory holds `config.json` (<see cref="VgtAeConfig"/>), `model.safetensors` (official names, teacher
/// excluded: it is rebuilt from <see cref="VgtAeConfig.VlmSource"/>) and `README.md` (model card).
/// </summary>
public static class VgtAeModel
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";

    /// <summary>Builds the AE for a config with random weights (VLM or conv encoder).</summary>
    public static LatentAutoencoder Create(VgtAeConfig config, Device? device = null, Generator? generator = null) =>
        config.Encoder == AeEncoderKind.Vlm ? new VgtAutoencoder(config, device, generator) : new ConvAutoencoder(config, device);

    /// <summary>
    /// A new VGT-AE on a VLM model directory (InternVL chat layout: HF `config.json` + `vision_model.*`, `mlp1.*` weights):
    /// the vision tower and projector take the VLM's weights (teacher = a frozen copy); the bottleneck and decoder are new.
    /// <paramref name="template"/> supplies everything but the vision settings.
    /// </summary>
    public static VgtAutoencoder FromVlm(string vlmDirectory, VgtAeConfig template, Device? device = null, Generator? generator = null)
    {
        var dir = ModelCatalog.Resolve(vlmDirectory);
        var vlm = InternVlHfConfig.LoadDirectory(dir);
        var config = template with { Encoder = AeEncoderKind.Vlm, Vision = VgtAeVisionConfig.FromInternVl(vlm), VlmSource = template.VlmSource ?? vlmDirectory };
        var ae = new VgtAutoencoder(config, device, generator);
        using var ck = CheckpointReader.Open(dir);
        ae.LoadVlmModules(ck);
        return ae;
    }

    /// <summary>
    /// Loads a model directory. With <paramref name="teacher"/> (for training) the teacher is rebuilt from the VLM named
    /// by vlm_source; otherwise the AE is built without one.
    /// </summary>
    public static LatentAutoencoder Load(string modelDirectory, bool teacher = false, Device? device = null)
    {
        var dir = ModelCatalog.Resolve(modelDirectory);
        var config = ConfigJson.Load<VgtAeConfig>(Path.Combine(dir, ConfigFile));
        var weights = Path.Combine(dir, WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"AE model directory '{dir}' has no {WeightsFile}", weights);
        bool wantTeacher = teacher && config.Encoder == AeEncoderKind.Vlm;
        LatentAutoencoder ae;
        if (wantTeacher)
        {
            if (config.VlmSource is null) throw new ConfigValidationException("vlm_source", $"{dir}: needed to rebuild the teacher");
            ae = FromVlm(config.VlmSource, config with { Teacher = true }, device);
        }
        else
        {
            ae = Create(config with { Teacher = false }, device);
        }
        using var ck = CheckpointReader.Open(weights);
        LoadWeights(ae, ck);
        return ae;
    }

    /// <summary>
    /// Loads AE weights in the official layout (`vgt_ae_internvl3.pth`: encoder, mlp1, down_blocks, down_mlp, decoder,
    /// teacher, teacher_mlp1; or a model directory's safetensors without the teacher). The decoder's names and shapes are
    /// checked first, so a checkpoint of the other up-sampling variant is refused with that diagnosis. Teacher tensors are
    /// loaded when the AE has a teacher and the file has them, ignored otherwise. <see cref="LoadInit"/> takes only some parts.
    /// </summary>
    public static LoadReport LoadWeights(LatentAutoencoder ae, ICheckpoint checkpoint) => LoadWeights(ae, checkpoint, skipDecoder: false);

    // with skipDecoder the file's decoder.* tensors are neither checked nor loaded (the AE's decoder keeps its weights)
    static LoadReport LoadWeights(LatentAutoencoder ae, ICheckpoint checkpoint, bool skipDecoder)
    {
        var shapes = checkpoint.Names.ToDictionary(n => n, n => checkpoint.Info(n).Shape);
        if (skipDecoder) shapes = shapes.Where(kv => !IsDecoder(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        else DcAeCheckpointShapes.CheckDecoder(ae.Config.DcAe, shapes, "decoder.");
        bool fileHasTeacher = shapes.Keys.Any(k => k.StartsWith("teacher.", StringComparison.Ordinal));
        bool aeHasTeacher = ae is VgtAutoencoder { teacher: not null };
        bool loadTeacher = aeHasTeacher && fileHasTeacher;
        static bool IsTeacher(string k) => k.StartsWith("teacher.", StringComparison.Ordinal) || k.StartsWith("teacher_mlp1.", StringComparison.Ordinal);

        // Check everything before copying anything.
        var expected = ae.state_dict().Where(kv => (loadTeacher || !IsTeacher(kv.Key)) && !(skipDecoder && IsDecoder(kv.Key))).ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var problems = new List<string>();
        foreach (var (name, shape) in expected)
        {
            if (!shapes.TryGetValue(name, out var s)) problems.Add($"missing: {name} {TensorInfo.ShapeText(shape)}");
            else if (!s.SequenceEqual(shape)) problems.Add($"shape mismatch: {name}: AE {TensorInfo.ShapeText(shape)}, checkpoint {TensorInfo.ShapeText(s)}");
        }
        problems.AddRange(shapes.Keys.Where(k => !expected.ContainsKey(k) && !IsTeacher(k)).Order(StringComparer.Ordinal).Select(k => $"unexpected: {k}"));
        if (problems.Count > 0)
        {
            var more = problems.Count > 8 ? $"\n  … and {problems.Count - 8} more" : "";
            throw new InvalidDataException($"Checkpoint '{checkpoint.Path}' does not match the AE ({problems.Count} problem(s)):\n  " +
                                           string.Join("\n  ", problems.Take(8)) + more);
        }
        var ignore = loadTeacher ? new List<string>() : [@"^teacher(_mlp1)?\."];
        if (skipDecoder) ignore.Add(@"^decoder\.");
        var report = StateDictLoader.Load(ae, checkpoint, new LoadOptions { Strict = false, Ignore = ignore });
        return report;
    }

    /// <summary>
    /// Initialises <paramref name="ae"/> from another AE's checkpoint, taking the tensors <paramref name="parts"/> names.
    /// Everything outside <c>decoder.*</c> must match exactly (as <see cref="LoadWeights"/>); with
    /// <see cref="AeInitParts.All"/> so must the decoder; with <see cref="AeInitParts.Encoder"/> no decoder tensor is taken;
    /// with <see cref="AeInitParts.Matching"/> each decoder tensor whose name and shape both sides share is taken.
    /// </summary>
    public static AeInitReport LoadInit(LatentAutoencoder ae, ICheckpoint checkpoint, AeInitParts parts)
    {
        LoadWeights(ae, checkpoint, skipDecoder: parts != AeInitParts.All);
        if (parts == AeInitParts.All) return new AeInitReport([], []);
        var model = ae.state_dict();
        bool Shared(string n) => parts == AeInitParts.Matching && IsDecoder(n) && model.TryGetValue(n, out var t) && checkpoint.Info(n).Shape.SequenceEqual(t.shape);
        if (parts == AeInitParts.Matching)
        {
            // the shared loader takes the decoder tensors both sides have; everything else was loaded above or stays fresh
            var ignore = checkpoint.Names.Where(n => IsDecoder(n) && !Shared(n)).Select(n => "^" + Regex.Escape(n) + "$").Prepend(@"^(?!decoder\.)").ToList();
            StateDictLoader.Load(ae, checkpoint, new LoadOptions { Strict = false, Ignore = ignore });
        }
        var taken = checkpoint.Names.Where(Shared).ToHashSet(StringComparer.Ordinal);
        return new AeInitReport(
            model.Keys.Where(k => IsDecoder(k) && !taken.Contains(k)).Order(StringComparer.Ordinal).ToList(),
            checkpoint.Names.Where(n => IsDecoder(n) && !taken.Contains(n)).Order(StringComparer.Ordinal).ToList());
    }

    static bool IsDecoder(string name) => name.StartsWith("decoder.", StringComparison.Ordinal);

    /// <summary>Initialises the decoder from a diffusers AutoencoderDC checkpoint (`decoder.conv_in…`, `decoder.up_blocks.{i}.{j}…`), after the shape check.</summary>
    public static void LoadDiffusersDecoder(LatentAutoencoder ae, string path)
    {
        using var ck = CheckpointReader.Open(path);
        var shapes = ck.Names.ToDictionary(n => n, n => ck.Info(n).Shape);
        DcAeCheckpointShapes.CheckDecoder(ae.Config.DcAe, shapes, "decoder.");
        StateDictLoader.Load(ae.decoder, ck, new LoadOptions { Prefix = "decoder.", Strict = true });
    }

    /// <summary>Writes config.json and model.safetensors (teacher excluded), and README.md when given.</summary>
    public static void Save(LatentAutoencoder ae, string directory, string? readme = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(directory);
        ConfigJson.Save(ae.Config with { Teacher = false }, Path.Combine(directory, ConfigFile));
        var weights = Path.Combine(directory, WeightsFile);
        var meta = new Dictionary<string, string> { ["format"] = "vgt-ae-v1" };
        if (metadata != null) foreach (var (k, v) in metadata) meta[k] = v;
        SafetensorsWriter.Write(weights, ae.ExportState(), meta);
        if (readme != null) IO.AtomicFile.WriteAllText(Path.Combine(directory, "README.md"), readme);
    }
}
