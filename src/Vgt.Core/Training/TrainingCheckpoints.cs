using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using Vgt.Checkpoints;
using static TorchSharp.torch;

namespace Vgt.Training;

/// <summary>What a training run needs besides tensors to continue exactly where it stopped.</summary>
public sealed record TrainingProgress(long Step, long Seed, string ConfigJson, IReadOnlyDictionary<string, double> Scalars);

/// <summary>
/// Resumable training checkpoints: <c>RUN/checkpoints/step-00001234/</c> holding <c>model.safetensors</c>,
/// optional <c>ema.safetensors</c>, one <c>optimizer-{name}.bin</c> per optimiser and <c>progress.json</c>.
/// A checkpoint is written into a temporary folder and renamed into place, so a crash never leaves a
/// half-written checkpoint that resume would pick up. Randomness in the training loops is derived from
/// (seed, step), so restoring the step restores the data order and the noise.
/// </summary>
public sealed class TrainingCheckpoints(string runDirectory, int keepLast = 2)
{
    const string Prefix = "step-";

    public string Directory { get; } = Path.Combine(runDirectory, "checkpoints");

    /// <summary>Complete checkpoints, oldest first.</summary>
    public IReadOnlyList<(long Step, string Path)> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.GetDirectories(Directory, Prefix + "*")
            .Select(d => (Name: System.IO.Path.GetFileName(d), Path: d))
            .Where(d => d.Name.Length == Prefix.Length + 8 && long.TryParse(d.Name[Prefix.Length..], out _)
                        && File.Exists(System.IO.Path.Combine(d.Path, "progress.json")))
            .Select(d => (long.Parse(d.Name[Prefix.Length..]), d.Path))
            .OrderBy(d => d.Item1).ToList();
    }

    public string? Latest() => List() is { Count: > 0 } l ? l[^1].Path : null;

    public void Save(TrainingProgress progress, nn.Module model, IReadOnlyDictionary<string, OptimizerHelper> optimizers,
        Ema? ema = null, IReadOnlyDictionary<string, Tensor>? extraTensors = null)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var final = System.IO.Path.Combine(Directory, $"{Prefix}{progress.Step:D8}");
        IO.AtomicDirectory.Write(final, tmp =>
        {
            var meta = new Dictionary<string, string> { ["step"] = progress.Step.ToString(), ["format"] = "vgt-training-checkpoint-v1" };
            SafetensorsWriter.Write(System.IO.Path.Combine(tmp, "model.safetensors"), StateOf(model), meta);
            if (ema != null) SafetensorsWriter.Write(System.IO.Path.Combine(tmp, "ema.safetensors"), ema.StateDict(), meta);
            if (extraTensors is { Count: > 0 }) SafetensorsWriter.Write(System.IO.Path.Combine(tmp, "extra.safetensors"), extraTensors, meta);
            foreach (var (name, opt) in optimizers) opt.save_state_dict(System.IO.Path.Combine(tmp, $"optimizer-{name}.bin"));
            File.WriteAllText(System.IO.Path.Combine(tmp, "progress.json"), JsonSerializer.Serialize(progress, new JsonSerializerOptions { WriteIndented = true }));
        });
        foreach (var (_, old) in List().SkipLast(keepLast)) System.IO.Directory.Delete(old, recursive: true);
    }

    /// <summary>Restores model, optimisers and EMA from <paramref name="checkpoint"/>; returns the saved progress.</summary>
    public static TrainingProgress Load(string checkpoint, nn.Module model, IReadOnlyDictionary<string, OptimizerHelper> optimizers,
        Ema? ema = null, Action<IReadOnlyDictionary<string, Tensor>>? extraTensors = null)
    {
        var progressPath = System.IO.Path.Combine(checkpoint, "progress.json");
        if (!File.Exists(progressPath)) throw new FileNotFoundException($"Not a training checkpoint (no progress.json): {checkpoint}", progressPath);
        var progress = JsonSerializer.Deserialize<TrainingProgress>(File.ReadAllText(progressPath))
                       ?? throw new InvalidDataException($"Empty progress.json in {checkpoint}");
        using (var ck = CheckpointReader.Open(System.IO.Path.Combine(checkpoint, "model.safetensors")))
            StateDictLoader.Load(model, ck, new LoadOptions { Strict = true });
        foreach (var (name, opt) in optimizers)
        {
            var path = System.IO.Path.Combine(checkpoint, $"optimizer-{name}.bin");
            if (!File.Exists(path)) throw new FileNotFoundException($"Training checkpoint lacks the optimiser state '{name}': {path}", path);
            opt.load_state_dict(path);
        }
        if (ema != null)
            ema.Load(ReadAll(System.IO.Path.Combine(checkpoint, "ema.safetensors")));
        var extra = System.IO.Path.Combine(checkpoint, "extra.safetensors");
        if (extraTensors != null && File.Exists(extra)) extraTensors(ReadAll(extra));
        return progress;
    }

    static Dictionary<string, Tensor> StateOf(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);

    static Dictionary<string, Tensor> ReadAll(string path)
    {
        using var ck = CheckpointReader.Open(path);
        return ck.Names.ToDictionary(n => n, n => ck.Load(n, null));
    }
}
