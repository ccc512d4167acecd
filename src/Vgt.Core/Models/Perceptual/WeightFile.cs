using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Models.Perceptual;

/// <summary>
/// Reads user-supplied weight files (torchvision / taming / pytorch-fid state dicts) and loads them into a module
/// by name. Reads with the project's checkpoint reader: .safetensors, zip-format torch.save files (.pth/.pt/.bin) and
/// sharded directories; legacy (pre-1.6, non-zip) .pth files must be re-saved first: torch.save(torch.load(p), p2).
/// </summary>
public static class WeightFile
{
    public static Dictionary<string, Tensor> Read(string path)
    {
        // The project's reader: validates the file, refuses legacy non-zip .pth with a clear message, reads lazily.
        using var checkpoint = Vgt.Checkpoints.CheckpointReader.Open(path);
        return checkpoint.Names.ToDictionary(n => n, n => checkpoint.Load(n, dtype: null).DetachFromDisposeScope());
    }

    /// <summary>
    /// Copies every entry of the module's state dict (parameters and buffers, except num_batches_tracked) from
    /// <paramref name="weights"/>, converting dtype. Throws naming the missing keys and shape mismatches;
    /// keys the module does not have are ignored (the reference loads with strict=False, e.g. VGG's classifier).
    /// Entries selected by <paramref name="keepOwn"/> (fixed constants) keep the module's values.
    /// </summary>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, string source,
                                Func<string, bool>? keepOwn = null)
    {
        var missing = new List<string>();
        using var _ = no_grad();
        foreach (var (name, target) in module.state_dict())
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal) || keepOwn?.Invoke(name) == true) continue;
            if (!weights.TryGetValue(name, out var w)) { missing.Add(name); continue; }
            if (!w.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: '{name}' has shape [{string.Join(",", w.shape)}], expected [{string.Join(",", target.shape)}]");
            target.copy_(w.to(target.dtype));
        }
        if (missing.Count > 0)
            throw new InvalidDataException($"{source}: {missing.Count} weights missing, e.g. {string.Join(", ", missing.Take(5))}");
    }

    /// <summary>Turns a loaded network into a frozen evaluator: eval mode, requires_grad false everywhere.</summary>
    public static T Freeze<T>(T module) where T : nn.Module
    {
        module.eval();
        foreach (var p in module.parameters()) p.requires_grad = false;
        return module;
    }
}
