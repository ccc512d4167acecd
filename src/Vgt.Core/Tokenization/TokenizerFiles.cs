using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Vgt.IO;

namespace Vgt.Tokenization;

/// <summary>
/// Reads and writes Hugging Face tokenizer folders for byte-level BPE: <c>tokenizer.json</c>, or
/// <c>vocab.json</c> + <c>merges.txt</c> with added tokens from <c>tokenizer_config.json</c>,
/// <c>added_tokens.json</c> and <c>special_tokens_map.json</c>.
/// </summary>
public static class TokenizerFiles
{
    public const string TokenizerJson = "tokenizer.json";
    public const string VocabJson = "vocab.json";
    public const string MergesTxt = "merges.txt";
    public const string TokenizerConfigJson = "tokenizer_config.json";
    public const string AddedTokensJson = "added_tokens.json";
    public const string SpecialTokensMapJson = "special_tokens_map.json";

    static readonly string Expected =
        $"expected '{TokenizerJson}', or '{VocabJson}' + '{MergesTxt}' (optionally with '{TokenizerConfigJson}', " +
        $"'{AddedTokensJson}', '{SpecialTokensMapJson}')";

    /// <summary>Reads the tokenizer in <paramref name="directory"/>; tokenizer.json wins when both layouts exist.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither layout is complete; the message lists the expected files.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or describes something other than byte-level BPE.</exception>
    public static BpeModelData Read(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Tokenizer folder '{directory}' does not exist; {Expected}.");

        string P(string name) => Path.Combine(directory, name);
        if (File.Exists(P(TokenizerJson))) return ReadTokenizerJson(directory);
        if (File.Exists(P(VocabJson)) && File.Exists(P(MergesTxt))) return ReadVocabAndMerges(directory);

        var present = new[] { VocabJson, MergesTxt, TokenizerConfigJson }.Where(f => File.Exists(P(f))).ToList();
        string found = present.Count == 0 ? "none of them is there" : $"found only {string.Join(", ", present.Select(f => $"'{f}'"))}";
        throw new FileNotFoundException($"No tokenizer in '{directory}': {Expected}; {found}.", P(TokenizerJson));
    }

    // ---------------------------------------------------------------- tokenizer.json

    static BpeModelData ReadTokenizerJson(string directory)
    {
        string path = Path.Combine(directory, TokenizerJson);
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Bad(path, "the root is not a JSON object");

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Bad(path, "it has no \"model\" object");
        string? type = OptionalString(path, model, "type", "model.type");
        if (type is not null && type != "BPE")
            throw Bad(path, $"model.type is \"{type}\"; only byte-level \"BPE\" is supported");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (OptionalString(path, model, affix, "model." + affix) is { Length: > 0 } v)
                throw Bad(path, $"model.{affix} is \"{v}\"; byte-level BPE (Qwen2) uses none");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() != 0)
            throw Bad(path, "model.dropout is set; encoding must be deterministic");

        if (!model.TryGetProperty("vocab", out var vocabEl)) throw Bad(path, "model.vocab is missing");
        var vocab = ReadVocabObject(path, vocabEl, "model.vocab");
        if (!model.TryGetProperty("merges", out var mergesEl) || mergesEl.ValueKind != JsonValueKind.Array)
            throw Bad(path, "model.merges is missing or not an array");
        var merges = new List<(string, string)>(mergesEl.GetArrayLength());
        int index = 0;
        foreach (var m in mergesEl.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String) merges.Add(SplitMerge(path, m.GetString()!, $"model.merges[{index}]"));
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String))
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw Bad(path, $"model.merges[{index}] is neither \"a b\" nor [\"a\", \"b\"]");
            index++;
        }

        bool nfc = ReadNormalizer(path, root);
        CheckPreTokenizer(path, root);

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedEl) && addedEl.ValueKind != JsonValueKind.Null)
        {
            if (addedEl.ValueKind != JsonValueKind.Array) throw Bad(path, "added_tokens is not an array");
            int i = 0;
            foreach (var t in addedEl.EnumerateArray())
            {
                string where = $"added_tokens[{i++}]";
                if (t.ValueKind != JsonValueKind.Object) throw Bad(path, $"{where} is not an object");
                if (!t.TryGetProperty("id", out var idEl) || !idEl.TryGetInt32(out int id) || id < 0)
                    throw Bad(path, $"{where}.id is missing or not a non-negative integer");
                string content = OptionalString(path, t, "content", where + ".content") ?? throw Bad(path, $"{where}.content is missing");
                CheckAddedTokenFlags(path, t, where, content);
                added.Add(new AddedToken(id, content, OptionalBool(path, t, "special", where + ".special") ?? false));
            }
        }

        var config = ReadConfig(directory, added, vocab, nextId: null);
        return new BpeModelData(vocab, merges, added, config.Eos, config.Pad, nfc, config.Bos, config.AddBos, config.AddEos);
    }

    static bool ReadNormalizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return false;
        string? type = n.ValueKind == JsonValueKind.Object ? OptionalString(path, n, "type", "normalizer.type") : null;
        if (type == "NFC") return true;
        if (type == "Sequence" && n.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var types = list.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Object && x.TryGetProperty("type", out var tt) ? tt.ToString() : "?").ToList();
            if (types.All(t => t == "NFC")) return types.Count > 0;
            throw Bad(path, $"normalizer Sequence [{string.Join(", ", types)}] is not supported; Qwen2 uses NFC or none");
        }
        throw Bad(path, $"normalizer \"{type ?? n.ToString()}\" is not supported; Qwen2 uses NFC or none");
    }

    static void CheckPreTokenizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var p) || p.ValueKind != JsonValueKind.Object)
            throw Bad(path, "pre_tokenizer is missing; Qwen2 needs Split(Qwen2 regex) + ByteLevel");
        var steps = new List<JsonElement>();
        if (p.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "Sequence")
        {
            if (!p.TryGetProperty("pretokenizers", out var list) || list.ValueKind != JsonValueKind.Array)
                throw Bad(path, "pre_tokenizer Sequence has no \"pretokenizers\" array");
            steps.AddRange(list.EnumerateArray());
        }
        else steps.Add(p);

        string Type(JsonElement e) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var tt) ? tt.ToString() : "?";
        var types = steps.Select(Type).ToList();
        if (types.Count != 2 || types[0] != "Split" || types[1] != "ByteLevel")
            throw Bad(path, $"pre_tokenizer is [{string.Join(", ", types)}]; Qwen2 uses [Split, ByteLevel]");
        var split = steps[0];
        string? regex = split.TryGetProperty("pattern", out var pat) && pat.ValueKind == JsonValueKind.Object
                        && pat.TryGetProperty("Regex", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        if (regex != Qwen2PreTokenizer.Pattern)
            throw Bad(path, $"the Split pre-tokenizer's regex is {(regex is null ? "missing" : $"'{regex}'")}, not Qwen2's '{Qwen2PreTokenizer.Pattern}'");
        if (OptionalString(path, split, "behavior", "pre_tokenizer Split.behavior") is { } b && b != "Isolated")
            throw Bad(path, $"the Split pre-tokenizer's behavior is \"{b}\"; Qwen2 uses \"Isolated\"");
        if (OptionalBool(path, split, "invert", "pre_tokenizer Split.invert") == true)
            throw Bad(path, "the Split pre-tokenizer is inverted; Qwen2's is not");
        if (OptionalBool(path, steps[1], "add_prefix_space", "pre_tokenizer ByteLevel.add_prefix_space") == true)
            throw Bad(path, "ByteLevel.add_prefix_space is true; Qwen2 adds no prefix space");
        if (OptionalBool(path, steps[1], "use_regex", "pre_tokenizer ByteLevel.use_regex") == true)
            throw Bad(path, "ByteLevel.use_regex is true (GPT-2's split on top of Qwen2's); Qwen2 sets it false");
    }

    static void CheckAddedTokenFlags(string path, JsonElement t, string where, string content)
    {
        foreach (var flag in new[] { "lstrip", "rstrip", "single_word" })
            if (OptionalBool(path, t, flag, $"{where}.{flag}") == true)
                throw Bad(path, $"{where} ('{content}') sets {flag}; only plain added tokens are supported");
    }

    // ---------------------------------------------------------------- vocab.json + merges.txt

    static BpeModelData ReadVocabAndMerges(string directory)
    {
        string vocabPath = Path.Combine(directory, VocabJson);
        Dictionary<string, int> vocab;
        using (var doc = ParseJson(vocabPath)) vocab = ReadVocabObject(vocabPath, doc.RootElement, "the root");

        string mergesPath = Path.Combine(directory, MergesTxt);
        var merges = new List<(string, string)>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(mergesPath, Encoding.UTF8))
        {
            lineNo++;
            string line = raw.EndsWith('\r') ? raw[..^1] : raw;
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            merges.Add(SplitMerge(mergesPath, line, $"line {lineNo}"));
        }

        var added = new List<AddedToken>();
        var config = ReadConfig(directory, added, vocab, nextId: Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, 0));
        return new BpeModelData(vocab, merges, added, config.Eos, config.Pad, Nfc: true, config.Bos, config.AddBos, config.AddEos);
    }

    // ---------------------------------------------------------------- tokenizer_config.json & co.

    readonly record struct Config(string? Eos, string? Pad, string? Bos, bool AddBos, bool AddEos);

    /// <summary>
    /// Adds tokens from tokenizer_config.json (added_tokens_decoder), added_tokens.json and
    /// special_tokens_map.json to <paramref name="added"/> and returns eos/pad/bos. With <paramref name="nextId"/>
    /// (the slow-tokenizer layout), a missing <c>&lt;|endoftext|&gt;</c> is added there as Qwen2's default
    /// unk/eos/pad, as transformers' Qwen2Tokenizer does.
    /// </summary>
    static Config ReadConfig(string directory, List<AddedToken> added, IReadOnlyDictionary<string, int> vocab, int? nextId)
    {
        var byContent = added.ToDictionary(a => a.Content, a => a, StringComparer.Ordinal);
        void Add(string content, int id, bool special, string source)
        {
            if (byContent.TryGetValue(content, out var old))
            {
                if (old.Id != id) throw Bad(source, $"added token '{content}' has id {id} here but {old.Id} elsewhere");
                if (special && !old.Special) Replace(old with { Special = true });
                return;
            }
            var t = new AddedToken(id, content, special);
            added.Add(t);
            byContent[content] = t;
        }
        void Replace(AddedToken t)
        {
            added[added.FindIndex(a => a.Content == t.Content)] = t;
            byContent[t.Content] = t;
        }

        string? eos = null, pad = null, bos = null;
        bool addBos = false, addEos = false;
        var specialNames = new List<string>();

        string configPath = Path.Combine(directory, TokenizerConfigJson);
        if (File.Exists(configPath))
        {
            using var doc = ParseJson(configPath);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(configPath, "the root is not a JSON object");
            if (root.TryGetProperty("added_tokens_decoder", out var dec) && dec.ValueKind == JsonValueKind.Object)
                foreach (var kv in dec.EnumerateObject())
                {
                    if (!int.TryParse(kv.Name, out int id) || id < 0) throw Bad(configPath, $"added_tokens_decoder key '{kv.Name}' is not an id");
                    string where = $"added_tokens_decoder[\"{kv.Name}\"]";
                    if (kv.Value.ValueKind != JsonValueKind.Object) throw Bad(configPath, $"{where} is not an object");
                    string content = OptionalString(configPath, kv.Value, "content", where + ".content") ?? throw Bad(configPath, $"{where}.content is missing");
                    CheckAddedTokenFlags(configPath, kv.Value, where, content);
                    Add(content, id, OptionalBool(configPath, kv.Value, "special", where + ".special") ?? false, configPath);
                }
            eos = TokenName(configPath, root, "eos_token");
            pad = TokenName(configPath, root, "pad_token");
            bos = TokenName(configPath, root, "bos_token");
            addBos = OptionalBool(configPath, root, "add_bos_token", "add_bos_token") ?? false;
            addEos = OptionalBool(configPath, root, "add_eos_token", "add_eos_token") ?? false;
            specialNames.AddRange(StringList(configPath, root, "additional_special_tokens"));
        }

        string addedPath = Path.Combine(directory, AddedTokensJson);
        if (File.Exists(addedPath))
        {
            using var doc = ParseJson(addedPath);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(addedPath, "the root is not a JSON object");
            foreach (var kv in doc.RootElement.EnumerateObject())
            {
                if (!kv.Value.TryGetInt32(out int id) || id < 0) throw Bad(addedPath, $"the id of '{kv.Name}' is not a non-negative integer");
                Add(kv.Name, id, special: false, addedPath);
            }
        }

        string mapPath = Path.Combine(directory, SpecialTokensMapJson);
        if (File.Exists(mapPath))
        {
            using var doc = ParseJson(mapPath);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(mapPath, "the root is not a JSON object");
            eos ??= TokenName(mapPath, root, "eos_token");
            pad ??= TokenName(mapPath, root, "pad_token");
            bos ??= TokenName(mapPath, root, "bos_token");
            foreach (var key in new[] { "eos_token", "pad_token", "bos_token", "unk_token" })
                if (TokenName(mapPath, root, key) is { } name) specialNames.Add(name);
            specialNames.AddRange(StringList(mapPath, root, "additional_special_tokens"));
        }
        foreach (var name in new[] { eos, pad, bos }) if (name is not null) specialNames.Add(name);

        if (nextId is int next)
        {
            int id = Math.Max(next, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);
            if (!byContent.ContainsKey(Qwen2SpecialTokens.EndOfText) && !vocab.ContainsKey(Qwen2SpecialTokens.EndOfText))
                Add(Qwen2SpecialTokens.EndOfText, id++, special: true, Path.Combine(directory, VocabJson));
            // Named special tokens that are neither added nor in the vocabulary are appended, as transformers does.
            foreach (var name in specialNames.Distinct())
                if (!byContent.ContainsKey(name) && !vocab.ContainsKey(name)) Add(name, id++, special: true, Path.Combine(directory, VocabJson));
        }
        foreach (var name in specialNames)
            if (byContent.TryGetValue(name, out var t) && !t.Special) Replace(t with { Special = true });

        return new Config(eos, pad, bos, addBos, addEos);
    }

    static string? TokenName(string path, JsonElement obj, string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        throw Bad(path, $"\"{key}\" is neither a string nor an object with \"content\"");
    }

    static IEnumerable<string> StringList(string path, JsonElement obj, string key)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Array) throw Bad(path, $"\"{key}\" is not an array");
        var list = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.String) list.Add(e.GetString()!);
            else if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) list.Add(c.GetString()!);
            else throw Bad(path, $"an entry of \"{key}\" is neither a string nor an object with \"content\"");
        }
        return list;
    }

    // ---------------------------------------------------------------- helpers

    static JsonDocument ParseJson(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Tokenizer file '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    static Dictionary<string, int> ReadVocabObject(string path, JsonElement el, string where)
    {
        if (el.ValueKind != JsonValueKind.Object) throw Bad(path, $"{where} is not an object of token → id");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var seenIds = new Dictionary<int, string>();
        foreach (var kv in el.EnumerateObject())
        {
            if (!kv.Value.TryGetInt32(out int id) || id < 0) throw Bad(path, $"{where}[\"{kv.Name}\"] is not a non-negative integer id");
            if (!vocab.TryAdd(kv.Name, id)) throw Bad(path, $"{where} lists '{kv.Name}' twice");
            if (!seenIds.TryAdd(id, kv.Name)) throw Bad(path, $"{where} gives id {id} to both '{seenIds[id]}' and '{kv.Name}'");
        }
        if (vocab.Count == 0) throw Bad(path, $"{where} is empty");
        return vocab;
    }

    static (string, string) SplitMerge(string path, string merge, string where)
    {
        int space = merge.IndexOf(' ');
        if (space <= 0 || space == merge.Length - 1 || merge.IndexOf(' ', space + 1) >= 0)
            throw Bad(path, $"merge at {where} is '{merge}', not two tokens separated by one space");
        return (merge[..space], merge[(space + 1)..]);
    }

    static string? OptionalString(string path, JsonElement obj, string key, string where)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw Bad(path, $"{where} is not a string");
        return v.GetString();
    }

    static bool? OptionalBool(string path, JsonElement obj, string key, string where)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(path, $"{where} is not true or false"),
        };
    }

    internal static InvalidDataException Bad(string path, string problem) => new($"Tokenizer file '{path}': {problem}.");

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes <c>vocab.json</c>, <c>merges.txt</c>, <c>tokenizer.json</c> (Hugging Face layout: BPE model, NFC
    /// normalizer, Split(Qwen2 regex) + ByteLevel pre-tokenizer, ByteLevel post-processor and decoder, added
    /// tokens) and <c>tokenizer_config.json</c>. The same data gives the same bytes.
    /// </summary>
    public static void Write(BpeModelData model, string directory)
    {
        Directory.CreateDirectory(directory);
        var ordered = model.Vocab.OrderBy(kv => kv.Value).ToList();
        var added = model.AddedTokens.OrderBy(a => a.Id).ToList();

        AtomicFile.WriteAllBytes(Path.Combine(directory, VocabJson), Json(w =>
        {
            w.WriteStartObject();
            foreach (var kv in ordered) w.WriteNumber(kv.Key, kv.Value);
            w.WriteEndObject();
        }, indented: false));

        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in model.Merges) merges.Append(l).Append(' ').Append(r).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(directory, MergesTxt), merges.ToString());

        AtomicFile.WriteAllBytes(Path.Combine(directory, TokenizerJson), Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var a in added)
            {
                w.WriteStartObject();
                w.WriteNumber("id", a.Id);
                w.WriteString("content", a.Content);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", a.Special);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (model.Nfc)
            {
                w.WriteStartObject("normalizer");
                w.WriteString("type", "NFC");
                w.WriteEndObject();
            }
            else w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", Qwen2PreTokenizer.Pattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            WriteByteLevel(w, null);
            w.WriteEndArray();
            w.WriteEndObject();
            WriteByteLevel(w, "post_processor");
            WriteByteLevel(w, "decoder");
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteString("continuing_subword_prefix", "");
            w.WriteString("end_of_word_suffix", "");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            foreach (var kv in ordered) w.WriteNumber(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (l, r) in model.Merges) w.WriteStringValue(l + " " + r);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }, indented: true));

        AtomicFile.WriteAllBytes(Path.Combine(directory, TokenizerConfigJson), Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", model.AddBosToken);
            w.WriteBoolean("add_eos_token", model.AddEosToken);
            w.WriteBoolean("add_prefix_space", false);
            w.WriteStartObject("added_tokens_decoder");
            foreach (var a in added)
            {
                w.WriteStartObject(a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("content", a.Content);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", a.Special);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteNullableString(w, "bos_token", model.BosToken);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            WriteNullableString(w, "eos_token", model.EosToken);
            w.WriteString("errors", "replace");
            WriteNullableString(w, "pad_token", model.PadToken);
            w.WriteBoolean("split_special_tokens", false);
            w.WriteString("tokenizer_class", "Qwen2Tokenizer");
            w.WriteNull("unk_token");
            w.WriteEndObject();
        }, indented: true));
    }

    static void WriteByteLevel(Utf8JsonWriter w, string? name)
    {
        if (name is null) w.WriteStartObject(); else w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", false);
        w.WriteBoolean("use_regex", false);
        w.WriteEndObject();
    }

    static void WriteNullableString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }

    static byte[] Json(Action<Utf8JsonWriter> write, bool indented)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = indented,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
            write(w);
        if (indented) buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }
}
