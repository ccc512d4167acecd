using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Vgt.Config;

namespace Vgt.Models.DcAe;

/// <summary>
/// AutoencoderDC configuration with diffusers' config.json field names; defaults are diffusers' constructor defaults,
/// so a diffusers config.json that omits a field means the same thing here. Per-stage string options
/// (block types, norm types, act fns) accept one string for all stages or one per stage.
/// </summary>
public sealed record DcAeConfig : IValidatable
{
    public const string SanaName = "dc-ae-f32c32-sana-1.1";

    public int InChannels { get; init; } = 3;
    public int LatentChannels { get; init; } = 32;
    public int AttentionHeadDim { get; init; } = 32;

    [JsonConverter(typeof(StringOrListJsonConverter))]
    public IReadOnlyList<string> EncoderBlockTypes { get; init; } = ["ResBlock"];
    [JsonConverter(typeof(StringOrListJsonConverter))]
    public IReadOnlyList<string> DecoderBlockTypes { get; init; } = ["ResBlock"];
    public IReadOnlyList<int> EncoderBlockOutChannels { get; init; } = [128, 256, 512, 512, 1024, 1024];
    public IReadOnlyList<int> DecoderBlockOutChannels { get; init; } = [128, 256, 512, 512, 1024, 1024];
    public IReadOnlyList<int> EncoderLayersPerBlock { get; init; } = [2, 2, 2, 3, 3, 3];
    public IReadOnlyList<int> DecoderLayersPerBlock { get; init; } = [3, 3, 3, 3, 3, 3];
    public IReadOnlyList<IReadOnlyList<int>> EncoderQkvMultiscales { get; init; } = [[], [], [], [5], [5], [5]];
    public IReadOnlyList<IReadOnlyList<int>> DecoderQkvMultiscales { get; init; } = [[], [], [], [5], [5], [5]];

    /// <summary>"interpolate" (nearest ×2 + conv) or "pixel_shuffle" (conv to 4·C + pixel shuffle).</summary>
    public string UpsampleBlockType { get; init; } = "pixel_shuffle";
    /// <summary>"Conv" (stride-2 conv) or "pixel_unshuffle" (conv to C/4 + pixel unshuffle).</summary>
    public string DownsampleBlockType { get; init; } = "pixel_unshuffle";

    [JsonConverter(typeof(StringOrListJsonConverter))]
    public IReadOnlyList<string> DecoderNormTypes { get; init; } = ["rms_norm"];
    [JsonConverter(typeof(StringOrListJsonConverter))]
    public IReadOnlyList<string> DecoderActFns { get; init; } = ["silu"];
    public bool EncoderOutShortcut { get; init; } = true;
    public bool DecoderInShortcut { get; init; } = true;
    public string DecoderConvActFn { get; init; } = "relu";
    /// <summary>Diffusion-latent scale; VGT does not apply it.</summary>
    public double ScalingFactor { get; init; } = 1.0;

    /// <summary>
    /// <c>mit-han-lab/dc-ae-f32c32-sana-1.1-diffusers</c> (backbones.md §1.1: the published sana-1.0 diffusers config plus
    /// diffusers defaults; the 1.1 architecture is the same, so the checkpoint's shapes confirm it at load time).
    /// </summary>
    public static DcAeConfig Sana11F32C32 { get; } = new()
    {
        InChannels = 3,
        LatentChannels = 32,
        AttentionHeadDim = 32,
        EncoderBlockTypes = ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock", "EfficientViTBlock", "EfficientViTBlock"],
        DecoderBlockTypes = ["ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock", "EfficientViTBlock", "EfficientViTBlock"],
        EncoderBlockOutChannels = [128, 256, 512, 512, 1024, 1024],
        DecoderBlockOutChannels = [128, 256, 512, 512, 1024, 1024],
        EncoderLayersPerBlock = [2, 2, 2, 3, 3, 3],
        DecoderLayersPerBlock = [3, 3, 3, 3, 3, 3],
        EncoderQkvMultiscales = [[], [], [], [5], [5], [5]],
        DecoderQkvMultiscales = [[], [], [], [5], [5], [5]],
        UpsampleBlockType = "interpolate",
        DownsampleBlockType = "Conv",
        DecoderNormTypes = ["rms_norm"],
        DecoderActFns = ["silu"],
        EncoderOutShortcut = true,
        DecoderInShortcut = true,
        DecoderConvActFn = "relu",
        ScalingFactor = 0.41407,
    };

    /// <summary>Presets by name ("dc-ae-f32c32-sana-1.1").</summary>
    public static DcAeConfig Preset(string name) => name switch
    {
        SanaName or SanaName + "-diffusers" or "mit-han-lab/" + SanaName + "-diffusers" => Sana11F32C32,
        _ => throw new ArgumentException($"Unknown DC-AE preset '{name}' (known: {SanaName})."),
    };

    public int DecoderStages => DecoderBlockOutChannels.Count;
    public int EncoderStages => EncoderBlockOutChannels.Count;
    public bool InterpolateUpsampling => UpsampleBlockType == "interpolate";
    public bool PixelUnshuffleDownsampling => DownsampleBlockType == "pixel_unshuffle";
    /// <summary>Decoder output size / latent size: 2^(stages−1) (32 for sana-1.1).</summary>
    public int SpatialCompressionRatio => 1 << (DecoderStages - 1);
    /// <summary>Image size / latent size for the encoder: 2^(encoder stages−1).</summary>
    public int SpatialCompressionRatioEncoder => 1 << (EncoderStages - 1);

    public string DecoderBlockType(int stage) => PerStage(DecoderBlockTypes, stage);
    public string EncoderBlockType(int stage) => PerStage(EncoderBlockTypes, stage);
    public string DecoderNormType(int stage) => PerStage(DecoderNormTypes, stage);
    public string DecoderActFn(int stage) => PerStage(DecoderActFns, stage);
    static string PerStage(IReadOnlyList<string> values, int stage) => values.Count == 1 ? values[0] : values[stage];

    /// <summary>
    /// Parses a diffusers AutoencoderDC config.json: "_class_name" must be AutoencoderDC when present, other "_" keys
    /// (_diffusers_version, _name_or_path) are ignored, unknown keys are refused, missing keys take diffusers' defaults.
    /// </summary>
    public static DcAeConfig FromDiffusersJson(string json, string source = "<string>")
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw new ConfigValidationException("$", $"{source}: expected a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ConfigValidationException("$", $"{source}: {e.Message}");
        }
        if (obj["_class_name"] is JsonNode cls && cls.GetValueKind() == System.Text.Json.JsonValueKind.String && cls.GetValue<string>() != "AutoencoderDC")
            throw new ConfigValidationException("_class_name", $"{source}: expected AutoencoderDC, got {cls.GetValue<string>()}");
        foreach (var key in obj.Select(kv => kv.Key).Where(k => k.StartsWith('_')).ToList()) obj.Remove(key);
        return ConfigJson.Deserialize<DcAeConfig>(obj.ToJsonString(), source);
    }

    /// <summary>Loads a diffusers config.json, given the file or the model folder holding it.</summary>
    public static DcAeConfig LoadDiffusers(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"DC-AE config.json not found: {file}", file);
        return FromDiffusersJson(File.ReadAllText(file), file);
    }

    public void Validate()
    {
        Require(InChannels > 0, "in_channels", "must be positive");
        Require(LatentChannels > 0, "latent_channels", "must be positive");
        Require(AttentionHeadDim > 0, "attention_head_dim", "must be positive");
        Require(ScalingFactor > 0 && double.IsFinite(ScalingFactor), "scaling_factor", "must be a positive number");
        Require(UpsampleBlockType is "interpolate" or "pixel_shuffle", "upsample_block_type", $"must be \"interpolate\" or \"pixel_shuffle\", got \"{UpsampleBlockType}\"");
        Require(DownsampleBlockType is "Conv" or "pixel_unshuffle", "downsample_block_type", $"must be \"Conv\" or \"pixel_unshuffle\", got \"{DownsampleBlockType}\"");
        Require(DcAeLayers.ActFns.Contains(DecoderConvActFn), "decoder_conv_act_fn", $"must be one of {string.Join(", ", DcAeLayers.ActFns)}, got \"{DecoderConvActFn}\"");
        ValidateDecoder();
        ValidateEncoder();
    }

    void ValidateDecoder()
    {
        var ch = DecoderBlockOutChannels;
        var layers = DecoderLayersPerBlock;
        int n = ch.Count;
        ValidateStages("decoder", ch, layers, DecoderQkvMultiscales);
        ValidatePerStage("decoder_block_types", DecoderBlockTypes, n, ["ResBlock", "EfficientViTBlock"]);
        ValidatePerStage("decoder_norm_types", DecoderNormTypes, n, DcAeLayers.NormTypes);
        ValidatePerStage("decoder_act_fns", DecoderActFns, n, DcAeLayers.ActFns);
        ValidateHeads("decoder", ch, layers, DecoderBlockType);
        if (DecoderInShortcut)
            Require(ch[n - 1] % LatentChannels == 0, "decoder_in_shortcut",
                $"the duplicating input shortcut needs decoder_block_out_channels[-1] ({ch[n - 1]}) divisible by latent_channels ({LatentChannels})");
        for (int i = 0; i < n - 1; i++)
            if (layers[i] > 0)
                Require(4 * ch[i] % ch[i + 1] == 0, "decoder_block_out_channels",
                    $"up block {ch[i + 1]}→{ch[i]} (stage {i}): the duplicating shortcut needs 4·{ch[i]} divisible by {ch[i + 1]}");
        if (layers[0] == 0) Require(n >= 2, "decoder_layers_per_block", "stage 0 may have 0 layers only when there are at least 2 stages");
    }

    void ValidateEncoder()
    {
        var ch = EncoderBlockOutChannels;
        var layers = EncoderLayersPerBlock;
        int n = ch.Count;
        ValidateStages("encoder", ch, layers, EncoderQkvMultiscales);
        ValidatePerStage("encoder_block_types", EncoderBlockTypes, n, ["ResBlock", "EfficientViTBlock"]);
        ValidateHeads("encoder", ch, layers, EncoderBlockType);
        if (EncoderOutShortcut)
            Require(ch[n - 1] % LatentChannels == 0, "encoder_out_shortcut",
                $"the averaging output shortcut needs encoder_block_out_channels[-1] ({ch[n - 1]}) divisible by latent_channels ({LatentChannels})");
        for (int i = 0; i < n - 1; i++)
            if (layers[i] > 0)
            {
                Require(4 * ch[i] % ch[i + 1] == 0, "encoder_block_out_channels",
                    $"down block {ch[i]}→{ch[i + 1]} (stage {i}): the averaging shortcut needs 4·{ch[i]} divisible by {ch[i + 1]}");
                if (PixelUnshuffleDownsampling)
                    Require(ch[i + 1] % 4 == 0, "encoder_block_out_channels", $"pixel_unshuffle down-sampling needs {ch[i + 1]} divisible by 4");
            }
        if (layers[0] == 0)
        {
            Require(n >= 2, "encoder_layers_per_block", "stage 0 may have 0 layers only when there are at least 2 stages");
            if (PixelUnshuffleDownsampling)
                Require(ch[1] % 4 == 0, "encoder_block_out_channels", $"pixel_unshuffle down-sampling needs {ch[1]} divisible by 4");
        }
    }

    static void ValidateStages(string side, IReadOnlyList<int> ch, IReadOnlyList<int> layers, IReadOnlyList<IReadOnlyList<int>> scales)
    {
        int n = ch.Count;
        Require(n >= 1, $"{side}_block_out_channels", "needs at least one stage");
        Require(ch.All(c => c > 0), $"{side}_block_out_channels", "all widths must be positive");
        Require(layers.Count == n, $"{side}_layers_per_block", $"has {layers.Count} entries, {side}_block_out_channels has {n}");
        Require(scales.Count == n, $"{side}_qkv_multiscales", $"has {scales.Count} entries, {side}_block_out_channels has {n}");
        Require(layers.All(l => l >= 0), $"{side}_layers_per_block", "must not be negative");
        for (int i = 1; i < n; i++)
            Require(layers[i] > 0, $"{side}_layers_per_block",
                $"stage {i} has 0 layers; only stage 0 may be empty (diffusers then skips its {(side == "decoder" ? "up" : "down")}-sampling block)");
        Require(scales.All(s => s.All(k => k > 0 && k % 2 == 1)), $"{side}_qkv_multiscales", "kernel sizes must be odd and positive");
    }

    static void ValidatePerStage(string field, IReadOnlyList<string> values, int stages, IReadOnlyCollection<string> allowed)
    {
        Require(values.Count == 1 || values.Count == stages, field, $"needs one value or {stages} (one per stage), got {values.Count}");
        foreach (var v in values)
            Require(allowed.Contains(v), field, $"\"{v}\" is not one of {string.Join(", ", allowed)}");
    }

    void ValidateHeads(string side, IReadOnlyList<int> ch, IReadOnlyList<int> layers, Func<int, string> blockType)
    {
        for (int i = 0; i < ch.Count; i++)
            if (layers[i] > 0 && blockType(i) == "EfficientViTBlock")
                Require(ch[i] % AttentionHeadDim == 0, $"{side}_block_out_channels",
                    $"stage {i} is an EfficientViT stage with {ch[i]} channels, not a multiple of attention_head_dim ({AttentionHeadDim})");
    }

    static void Require(bool ok, string field, string problem) => ConfigValidationException.Require(ok, field, problem);
}
