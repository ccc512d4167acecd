using System.Text.Json;
using System.Text.Json.Nodes;
using Vgt.IO;
using Vgt.Config;
using Vgt.Models.InternVit;
using Vgt.Models.Qwen2;

namespace Vgt.Models.InternVl;

/// <summary>
/// Reads the Hugging Face `config.json` of an InternVL chat checkpoint (model_type "internvl_chat", e.g.
/// OpenGVLab/InternVL3-1B) into an <see cref="InternVlConfig"/>. Unknown fields (auto_map, MoE settings, generation
/// defaults, …) are ignored; the fields the model needs must be present, except those with a documented HF default.
/// </summary>
public static class InternVlHfConfig
{
    /// <summary>Reads `config.json` in <paramref name="directory"/>.</summary>
    public static InternVlConfig LoadDirectory(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json in the InternVL directory '{directory}'", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static InternVlConfig Parse(string json, string source = "<string>")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ConfigValidationException("$", $"{source}: not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ConfigValidationException("$", $"{source}: expected a JSON object");
            var modelType = OptString(root, "model_type", "");
            if (modelType != "" && modelType != "internvl_chat")
                throw new ConfigValidationException("model_type", $"{source}: expected \"internvl_chat\", got \"{modelType}\"");
            var vision = ParseVision(Object(root, "vision_config"));
            var llm = ParseLlm(Object(root, "llm_config"), root);
            int imageSize = OptInt(root, "force_image_size") ?? vision.ImageSize;
            var psText = OptString(root, "ps_version", "v1");   // InternVLChatConfig default
            var ps = psText switch
            {
                "v1" => PixelShuffleVersion.V1,
                "v2" => PixelShuffleVersion.V2,
                _ => throw new ConfigValidationException("ps_version", $"{source}: expected \"v1\" or \"v2\", got \"{psText}\""),
            };
            var config = new InternVlConfig(vision, llm,
                DownsampleRatio: OptDouble(root, "downsample_ratio") ?? 0.5,
                Projector: new VisionProjectorConfig(1e-5),   // nn.LayerNorm default eps; not in config.json
                SelectLayer: OptInt(root, "select_layer") ?? -1,
                PsVersion: ps,
                ImageSize: imageSize,
                Template: OptStringOrNull(root, "template"));
            config.Validate();
            return config;
        }
    }

    /// <summary>
    /// The hub-style config.json of <paramref name="config"/> (model_type "internvl_chat", vision_config, llm_config with
    /// model_type "qwen2"), which <see cref="Parse"/> reads back to an equal record. Single-tile models: dynamic tiling off.
    /// </summary>
    public static string ToJson(InternVlConfig config)
    {
        config.Validate();
        var v = config.Vision;
        var l = config.Llm;
        var vision = new JsonObject
        {
            ["architectures"] = new JsonArray("InternVisionModel"),
            ["model_type"] = "intern_vit_6b",
            ["hidden_size"] = v.HiddenSize,
            ["intermediate_size"] = v.IntermediateSize,
            ["num_hidden_layers"] = v.NumHiddenLayers,
            ["num_attention_heads"] = v.NumAttentionHeads,
            ["patch_size"] = v.PatchSize,
            ["image_size"] = v.ImageSize,
            ["num_channels"] = v.NumChannels,
            ["qkv_bias"] = v.QkvBias,
            ["qk_normalization"] = v.QkNormalization,
            ["norm_type"] = v.NormType == InternVitNormType.LayerNorm ? "layer_norm" : "rms_norm",
            ["layer_norm_eps"] = v.LayerNormEps,
            ["hidden_act"] = v.HiddenAct,
            ["initializer_factor"] = v.InitializerFactor,
            ["drop_path_rate"] = 0.0,
            ["use_flash_attn"] = false,
        };
        var llm = new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen2ForCausalLM"),
            ["model_type"] = "qwen2",
            ["vocab_size"] = l.VocabSize,
            ["hidden_size"] = l.HiddenSize,
            ["intermediate_size"] = l.IntermediateSize,
            ["num_hidden_layers"] = l.NumHiddenLayers,
            ["num_attention_heads"] = l.NumAttentionHeads,
            ["num_key_value_heads"] = l.NumKeyValueHeads,
            ["rms_norm_eps"] = l.RmsNormEps,
            ["rope_theta"] = l.RopeTheta,
            ["max_position_embeddings"] = l.MaxPositionEmbeddings,
            ["tie_word_embeddings"] = l.TieWordEmbeddings,
            ["hidden_act"] = l.HiddenAct,
            ["initializer_range"] = l.InitializerRange,
            ["use_sliding_window"] = false,
            ["rope_scaling"] = l.RopeScaling is null ? null : new JsonObject { ["type"] = l.RopeScaling.Type, ["factor"] = l.RopeScaling.Factor },
        };
        if (l.HeadDim is int hd) llm["head_dim"] = hd;
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray("InternVLChatModel"),
            ["model_type"] = "internvl_chat",
            ["torch_dtype"] = "float32",
            ["downsample_ratio"] = config.DownsampleRatio,
            ["force_image_size"] = config.ImageSize,
            ["ps_version"] = config.PsVersion == PixelShuffleVersion.V2 ? "v2" : "v1",
            ["select_layer"] = config.SelectLayer,
            ["template"] = config.Template,
            ["dynamic_image_size"] = false,
            ["use_thumbnail"] = false,
            ["min_dynamic_patch"] = 1,
            ["max_dynamic_patch"] = 1,
            ["tie_word_embeddings"] = l.TieWordEmbeddings,
            ["vision_config"] = vision,
            ["llm_config"] = llm,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Writes <c>config.json</c> into <paramref name="directory"/> atomically.</summary>
    public static void Write(InternVlConfig config, string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "config.json"), ToJson(config));
    }

    private static InternVitConfig ParseVision(JsonElement v)
    {
        const string p = "vision_config.";
        var normText = String(v, "norm_type", p);
        var norm = normText switch
        {
            "layer_norm" => InternVitNormType.LayerNorm,
            "rms_norm" => InternVitNormType.RmsNorm,
            _ => throw new ConfigValidationException(p + "norm_type", $"expected \"layer_norm\" or \"rms_norm\", got \"{normText}\""),
        };
        if (OptBool(v, "use_moe") == true) throw new ConfigValidationException(p + "use_moe", "mixture-of-experts vision towers are not supported");
        var config = new InternVitConfig(
            HiddenSize: Int(v, "hidden_size", p),
            IntermediateSize: Int(v, "intermediate_size", p),
            NumHiddenLayers: Int(v, "num_hidden_layers", p),
            NumAttentionHeads: Int(v, "num_attention_heads", p),
            PatchSize: Int(v, "patch_size", p),
            ImageSize: Int(v, "image_size", p),
            QkvBias: Bool(v, "qkv_bias", p),
            QkNormalization: Bool(v, "qk_normalization", p),
            NormType: norm,
            LayerNormEps: Double(v, "layer_norm_eps", p),
            NumChannels: OptInt(v, "num_channels") ?? 3,
            HiddenAct: OptString(v, "hidden_act", "gelu"),
            InitializerFactor: OptDouble(v, "initializer_factor") ?? 0.1);
        Prefixed(p, config.Validate);
        return config;
    }

    private static Qwen2Config ParseLlm(JsonElement l, JsonElement root)
    {
        const string p = "llm_config.";
        var type = OptString(l, "model_type", "");
        var archs = l.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : [];
        if (type != "qwen2" && !archs.Contains("Qwen2ForCausalLM"))
            throw new ConfigValidationException(p + "model_type",
                $"only Qwen2 language models are supported, got model_type \"{type}\" / architectures [{string.Join(", ", archs)}]");
        if (OptBool(l, "use_sliding_window") == true)
            throw new ConfigValidationException(p + "use_sliding_window", "sliding-window attention is not supported");
        int heads = Int(l, "num_attention_heads", p);
        RopeScalingConfig? scaling = null;
        if (l.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            var kind = OptStringOrNull(rs, "rope_type") ?? OptString(rs, "type", "default");
            if (kind != "default")
                scaling = new RopeScalingConfig(kind, OptDouble(rs, "factor") ?? throw new ConfigValidationException(p + "rope_scaling.factor", "is required"));
        }
        var config = new Qwen2Config(
            VocabSize: Int(l, "vocab_size", p),
            HiddenSize: Int(l, "hidden_size", p),
            IntermediateSize: Int(l, "intermediate_size", p),
            NumHiddenLayers: Int(l, "num_hidden_layers", p),
            NumAttentionHeads: heads,
            NumKeyValueHeads: OptInt(l, "num_key_value_heads") ?? heads,   // HF: None → num_attention_heads
            RmsNormEps: Double(l, "rms_norm_eps", p),
            RopeTheta: Double(l, "rope_theta", p),
            MaxPositionEmbeddings: Int(l, "max_position_embeddings", p),
            TieWordEmbeddings: OptBool(l, "tie_word_embeddings") ?? OptBool(root, "tie_word_embeddings") ?? false,
            HeadDim: OptInt(l, "head_dim"),
            RopeScaling: scaling,
            InitializerRange: OptDouble(l, "initializer_range") ?? 0.02,
            HiddenAct: OptString(l, "hidden_act", "silu"));
        Prefixed(p, config.Validate);
        return config;
    }

    private static void Prefixed(string prefix, Action validate)
    {
        try
        {
            validate();
        }
        catch (ConfigValidationException e)
        {
            throw new ConfigValidationException(prefix + e.Field, e.Message);
        }
    }

    private static JsonElement Object(JsonElement o, string name) =>
        o.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Object ? e
            : throw new ConfigValidationException(name, "is required (an object)");

    private static bool Present(JsonElement o, string name, out JsonElement e) =>
        o.TryGetProperty(name, out e) && e.ValueKind != JsonValueKind.Null;

    private static int Int(JsonElement o, string name, string prefix) =>
        OptInt(o, name) ?? throw new ConfigValidationException(prefix + name, "is required (an integer)");

    private static int? OptInt(JsonElement o, string name)
    {
        if (!Present(o, name, out var e)) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i)) return i;
        throw new ConfigValidationException(name, $"expected an integer, got {e.GetRawText()}");
    }

    private static double Double(JsonElement o, string name, string prefix) =>
        OptDouble(o, name) ?? throw new ConfigValidationException(prefix + name, "is required (a number)");

    private static double? OptDouble(JsonElement o, string name)
    {
        if (!Present(o, name, out var e)) return null;
        if (e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        throw new ConfigValidationException(name, $"expected a number, got {e.GetRawText()}");
    }

    private static bool Bool(JsonElement o, string name, string prefix) =>
        OptBool(o, name) ?? throw new ConfigValidationException(prefix + name, "is required (true/false)");

    private static bool? OptBool(JsonElement o, string name)
    {
        if (!Present(o, name, out var e)) return null;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => e.GetDouble() != 0,   // e.g. use_backbone_lora: 0
            _ => throw new ConfigValidationException(name, $"expected true/false, got {e.GetRawText()}"),
        };
    }

    private static string String(JsonElement o, string name, string prefix) =>
        OptStringOrNull(o, name) ?? throw new ConfigValidationException(prefix + name, "is required (a string)");

    private static string OptString(JsonElement o, string name, string fallback) => OptStringOrNull(o, name) ?? fallback;

    private static string? OptStringOrNull(JsonElement o, string name)
    {
        if (!Present(o, name, out var e)) return null;
        if (e.ValueKind == JsonValueKind.String) return e.GetString()!;
        throw new ConfigValidationException(name, $"expected a string, got {e.GetRawText()}");
    }

}
