using static TorchSharp.torch;

namespace Vgt.Models.DcAe;

/// <summary>A DC-AE checkpoint that does not fit the configured architecture; the message says what differs.</summary>
public sealed class DcAeCheckpointException(string message) : Exception(message);

/// <summary>
/// Compares a checkpoint's tensor names and shapes (diffusers names, e.g. <c>decoder.up_blocks.4.0.conv.weight</c>) with
/// what a config builds, before any weight is copied. The up/down-sampling variant is diagnosed first: an up-block conv
/// of [4·Cout, Cin, 3, 3] is the pixel-shuffle variant, [Cout, Cin, 3, 3] the interpolate one (encoder: [Cout/4, …] is
/// pixel_unshuffle, [Cout, …] is Conv).
/// </summary>
public static class DcAeCheckpointShapes
{
    /// <summary>Every decoder tensor name (with <paramref name="prefix"/>) and shape, from a decoder built on the meta device.</summary>
    public static Dictionary<string, long[]> ExpectedDecoder(DcAeConfig config, string prefix = "decoder.")
    {
        using var decoder = new DcAeDecoder(config, META);
        return Shapes(decoder, prefix);
    }

    /// <summary>Every encoder tensor name (with <paramref name="prefix"/>) and shape, from an encoder built on the meta device.</summary>
    public static Dictionary<string, long[]> ExpectedEncoder(DcAeConfig config, string prefix = "encoder.")
    {
        using var encoder = new DcAeEncoder(config, META);
        return Shapes(encoder, prefix);
    }

    static Dictionary<string, long[]> Shapes(nn.Module module, string prefix) =>
        module.state_dict().ToDictionary(kv => prefix + kv.Key, kv => kv.Value.shape);

    /// <summary>Throws <see cref="DcAeCheckpointException"/> unless the checkpoint's <paramref name="prefix"/> tensors are exactly the decoder's.</summary>
    public static void CheckDecoder(DcAeConfig config, IReadOnlyDictionary<string, long[]> checkpoint, string prefix = "decoder.")
    {
        var expected = ExpectedDecoder(config, prefix);
        var ch = config.DecoderBlockOutChannels;
        var layers = config.DecoderLayersPerBlock;
        var upConvs = new List<(string Key, long Out, long In)>();
        for (int i = 0; i < ch.Count - 1; i++)
            if (layers[i] > 0) upConvs.Add(($"{prefix}up_blocks.{i}.0.conv.weight", ch[i], ch[i + 1]));
        if (layers[0] == 0) upConvs.Add(($"{prefix}conv_out.weight", config.InChannels, ch[1]));

        foreach (var (key, cout, cin) in upConvs)
        {
            if (!checkpoint.TryGetValue(key, out var s) || s.Length != 4 || s[1] != cin) continue;
            if (config.InterpolateUpsampling && s[0] == 4 * cout)
                throw new DcAeCheckpointException(
                    $"This checkpoint uses the pixel-shuffle up-sampling variant but the config says interpolate (upsample_block_type): " +
                    $"{key} is {Fmt(s)}, the interpolate variant needs {Fmt([cout, cin, 3, 3])}. Set upsample_block_type to \"pixel_shuffle\" or use the matching checkpoint.");
            if (!config.InterpolateUpsampling && s[0] == cout)
                throw new DcAeCheckpointException(
                    $"This checkpoint uses the interpolate up-sampling variant but the config says pixel_shuffle (upsample_block_type): " +
                    $"{key} is {Fmt(s)}, the pixel-shuffle variant needs {Fmt([4 * cout, cin, 3, 3])}. Set upsample_block_type to \"interpolate\" or use the matching checkpoint.");
        }
        Compare("decoder", expected, checkpoint, prefix);
    }

    /// <summary>Throws <see cref="DcAeCheckpointException"/> unless the checkpoint's <paramref name="prefix"/> tensors are exactly the encoder's.</summary>
    public static void CheckEncoder(DcAeConfig config, IReadOnlyDictionary<string, long[]> checkpoint, string prefix = "encoder.")
    {
        var expected = ExpectedEncoder(config, prefix);
        var ch = config.EncoderBlockOutChannels;
        var layers = config.EncoderLayersPerBlock;
        var downConvs = new List<(string Key, long Out, long In)>();
        for (int i = 0; i < ch.Count - 1; i++)
            if (layers[i] > 0) downConvs.Add(($"{prefix}down_blocks.{i}.{layers[i]}.conv.weight", ch[i + 1], ch[i]));
        if (layers[0] == 0) downConvs.Add(($"{prefix}conv_in.conv.weight", ch[1], config.InChannels));

        foreach (var (key, cout, cin) in downConvs)
        {
            if (!checkpoint.TryGetValue(key, out var s) || s.Length != 4 || s[1] != cin) continue;
            if (!config.PixelUnshuffleDownsampling && 4 * s[0] == cout)
                throw new DcAeCheckpointException(
                    $"This checkpoint uses the pixel-unshuffle down-sampling variant but the config says Conv (downsample_block_type): " +
                    $"{key} is {Fmt(s)}, the Conv variant needs {Fmt([cout, cin, 3, 3])}.");
            if (config.PixelUnshuffleDownsampling && s[0] == cout)
                throw new DcAeCheckpointException(
                    $"This checkpoint uses the Conv (stride-2) down-sampling variant but the config says pixel_unshuffle (downsample_block_type): " +
                    $"{key} is {Fmt(s)}, the pixel-unshuffle variant needs {Fmt([cout / 4, cin, 3, 3])}.");
        }
        Compare("encoder", expected, checkpoint, prefix);
    }

    static void Compare(string what, Dictionary<string, long[]> expected, IReadOnlyDictionary<string, long[]> checkpoint, string prefix)
    {
        var problems = new List<string>();
        foreach (var (key, shape) in expected)
        {
            if (!checkpoint.TryGetValue(key, out var s)) problems.Add($"missing {key} {Fmt(shape)}");
            else if (!s.SequenceEqual(shape)) problems.Add($"{key} is {Fmt(s)}, expected {Fmt(shape)}");
        }
        foreach (var key in checkpoint.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !expected.ContainsKey(k)).Order())
            problems.Add($"unexpected {key} {Fmt(checkpoint[key])}");
        if (problems.Count == 0) return;
        const int shown = 12;
        var more = problems.Count > shown ? $"\n  … and {problems.Count - shown} more" : "";
        throw new DcAeCheckpointException(
            $"The checkpoint does not match the configured DC-AE {what} ({problems.Count} problem(s)):\n  " +
            string.Join("\n  ", problems.Take(shown)) + more);
    }

    /// <summary>
    /// Copies the checkpoint's <paramref name="prefix"/> tensors into <paramref name="module"/>'s parameters and buffers
    /// (converting dtype); call after the shape check. Tensors outside the prefix are ignored.
    /// </summary>
    internal static void CopyInto(nn.Module module, IReadOnlyDictionary<string, Tensor> checkpoint, string prefix)
    {
        using var noGrad = no_grad();
        foreach (var (name, target) in module.state_dict())
            target.copy_(checkpoint[prefix + name]);
    }

    internal static Dictionary<string, long[]> ShapesOf(IReadOnlyDictionary<string, Tensor> checkpoint) =>
        checkpoint.ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    static string Fmt(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
