using System.Text;
using Microsoft.ML.Tokenizers;

namespace Vgt.Tokenization;

/// <summary>
/// Qwen2's byte-level BPE tokenizer (shared by InternVL3 and Qwen2.5-VL), on Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/>. Encoding follows Hugging Face's fast tokenizer:
/// <list type="number">
/// <item>added tokens (special or not) are cut out of the raw text first, leftmost-longest, never normalized;</item>
/// <item>the text between them is NFC-normalized (<see cref="UnicodeNfc"/>), split by Qwen2's regex
/// (<see cref="Qwen2PreTokenizer"/>), turned into byte-level characters and merged by BPE rank.</item>
/// </list>
/// All 256 byte symbols are in the vocabulary, so any text encodes without an unknown token.
/// Decoding maps token characters back to bytes and decodes UTF-8 with U+FFFD for invalid sequences.
/// </summary>
public sealed class Qwen2Tokenizer
{
    readonly BpeTokenizer bpe;
    readonly Dictionary<string, int> vocab;
    readonly Dictionary<int, string> idToToken;
    readonly Dictionary<string, AddedToken> addedByContent;
    readonly Dictionary<int, AddedToken> addedById;
    readonly Dictionary<char, AddedToken[]> addedByFirstChar;   // longest first
    readonly int? bosId, eosId, padId;

    /// <summary>The data this tokenizer was built from (for writing it back with <see cref="TokenizerFiles.Write"/>).</summary>
    public BpeModelData Model { get; }

    Qwen2Tokenizer(BpeModelData model)
    {
        Model = model;
        vocab = new Dictionary<string, int>(model.Vocab, StringComparer.Ordinal);
        idToToken = vocab.ToDictionary(kv => kv.Value, kv => kv.Key);
        for (int b = 0; b < 256; b++)
        {
            string symbol = ByteLevel.ByteToChar[b].ToString();
            if (!vocab.ContainsKey(symbol))
                throw new InvalidDataException(
                    $"The vocabulary lacks the byte-level symbol '{symbol}' (byte 0x{b:X2}); a byte-level BPE vocabulary has all 256, so it is not one.");
        }

        addedByContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        addedById = new Dictionary<int, AddedToken>();
        foreach (var a in model.AddedTokens)
        {
            if (a.Content.Length == 0) throw new InvalidDataException($"Added token id {a.Id} has empty content.");
            if (!addedByContent.TryAdd(a.Content, a)) throw new InvalidDataException($"Added token '{a.Content}' is listed twice.");
            if (!addedById.TryAdd(a.Id, a)) throw new InvalidDataException($"Added tokens '{addedById[a.Id].Content}' and '{a.Content}' share id {a.Id}.");
        }
        addedByFirstChar = model.AddedTokens.GroupBy(a => a.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(a => a.Content.Length).ToArray());

        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocab)
            {
                Merges = model.Merges.Select(m => m.Left + " " + m.Right),
                PreTokenizer = Qwen2PreTokenizer.Instance,
                Normalizer = model.Nfc ? NfcNormalizer.Instance : null,
                ByteLevel = true,
            });
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"The BPE merges do not fit the vocabulary: {e.Message}", e);
        }

        bosId = model.BosToken is null ? null : TokenToId(model.BosToken) ?? throw Missing(model.BosToken, "bos_token");
        eosId = model.EosToken is null ? null : TokenToId(model.EosToken) ?? throw Missing(model.EosToken, "eos_token");
        padId = model.PadToken is not null ? TokenToId(model.PadToken) ?? throw Missing(model.PadToken, "pad_token")
                                           : TokenToId(Qwen2SpecialTokens.EndOfText);
        VocabSize = Math.Max(idToToken.Keys.Max(), addedById.Count == 0 ? 0 : addedById.Keys.Max()) + 1;
    }

    static InvalidDataException Missing(string token, string role) =>
        new($"The tokenizer config names '{token}' as {role}, but it is neither an added token nor in the vocabulary.");

    /// <summary>Loads <c>tokenizer.json</c>, or <c>vocab.json</c> + <c>merges.txt</c>, from a folder (see <see cref="TokenizerFiles.Read"/>).</summary>
    public static Qwen2Tokenizer Load(string directory) => new(TokenizerFiles.Read(directory));

    /// <summary>Builds a tokenizer from in-memory data (e.g. what <see cref="BpeTrainer"/> learned).</summary>
    public static Qwen2Tokenizer FromModel(BpeModelData model) => new(model);

    /// <summary>Number of embedding rows the ids need: highest id + 1 (base vocabulary plus added tokens).</summary>
    public int VocabSize { get; }

    public IReadOnlyCollection<AddedToken> AddedTokens => addedById.Values;

    /// <summary>The Microsoft.ML.Tokenizers model that encodes the text between added tokens (it does not itself match added tokens).</summary>
    public Tokenizer Inner => bpe;

    // ---------------------------------------------------------------- special tokens

    public int EndOfText => Require(Qwen2SpecialTokens.EndOfText);
    public int ImStart => Require(Qwen2SpecialTokens.ImStart);
    public int ImEnd => Require(Qwen2SpecialTokens.ImEnd);
    /// <summary><c>&lt;img&gt;</c>; InternVL3 has it, Qwen2.5-VL's tokenizer does not.</summary>
    public int ImgStart => Require(Qwen2SpecialTokens.ImgStart);
    public int ImgEnd => Require(Qwen2SpecialTokens.ImgEnd);
    public int ImgContext => Require(Qwen2SpecialTokens.ImgContext);
    /// <summary>Padding id: the config's pad_token, else <c>&lt;|endoftext|&gt;</c>.</summary>
    public int PadId => padId ?? throw new InvalidOperationException("The tokenizer has no pad_token and no <|endoftext|>; pass a pad id.");
    public int? EosId => eosId;
    /// <summary>True when <c>&lt;img&gt;</c>, <c>&lt;/img&gt;</c> and <c>&lt;IMG_CONTEXT&gt;</c> are single tokens.</summary>
    public bool HasImageTokens =>
        addedByContent.ContainsKey(Qwen2SpecialTokens.ImgStart) && addedByContent.ContainsKey(Qwen2SpecialTokens.ImgEnd)
        && addedByContent.ContainsKey(Qwen2SpecialTokens.ImgContext);

    int Require(string token) => addedByContent.TryGetValue(token, out var a) ? a.Id
        : throw new InvalidOperationException($"The tokenizer has no added token '{token}'.");

    /// <summary>Id of an added token (by its text) or a vocabulary token (by its byte-level form, e.g. "Ġworld"); null if none.</summary>
    public int? TokenToId(string token) =>
        addedByContent.TryGetValue(token, out var a) ? a.Id : vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>The token string of an id (byte-level form for vocabulary tokens); null if unknown.</summary>
    public string? IdToToken(int id) =>
        addedById.TryGetValue(id, out var a) ? a.Content : idToToken.GetValueOrDefault(id);

    public bool IsSpecial(int id) => addedById.TryGetValue(id, out var a) && a.Special;

    // ---------------------------------------------------------------- encoding

    /// <summary>Token ids of <paramref name="text"/>.</summary>
    /// <param name="addSpecialTokens">Adds BOS/EOS where the config asks for them (add_bos_token/add_eos_token);
    /// Qwen2 and InternVL3 ask for neither, so for them this changes nothing, as in transformers.</param>
    /// <param name="parseSpecialTokens">False treats added-token strings in the text as plain text
    /// (transformers' split_special_tokens=True).</param>
    public int[] Encode(string text, bool addSpecialTokens = true, bool parseSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens && Model.AddBosToken && bosId is int bos) ids.Add(bos);
        foreach (var (start, length, added) in Segments(text, parseSpecialTokens))
        {
            if (added is not null) ids.Add(added.Id);
            else ids.AddRange(bpe.EncodeToIds(text.Substring(start, length)));
        }
        if (addSpecialTokens && Model.AddEosToken && eosId is int eos) ids.Add(eos);
        return ids.ToArray();
    }

    /// <summary>The token strings of <paramref name="text"/> (byte-level form; added tokens as written).</summary>
    public string[] Tokenize(string text) => Encode(text, addSpecialTokens: false).Select(id => IdToToken(id)!).ToArray();

    /// <summary>Splits the raw text at added tokens, leftmost-longest, as Hugging Face's added vocabulary does.</summary>
    IEnumerable<(int Start, int Length, AddedToken? Added)> Segments(string text, bool parseSpecialTokens)
    {
        if (!parseSpecialTokens || addedByFirstChar.Count == 0)
        {
            if (text.Length > 0) yield return (0, text.Length, null);
            yield break;
        }
        int plainStart = 0;
        for (int i = 0; i < text.Length;)
        {
            AddedToken? match = null;
            if (addedByFirstChar.TryGetValue(text[i], out var candidates))
                foreach (var c in candidates)
                    if (i + c.Content.Length <= text.Length && string.CompareOrdinal(text, i, c.Content, 0, c.Content.Length) == 0)
                    {
                        match = c;
                        break;
                    }
            if (match is null) { i++; continue; }
            if (i > plainStart) yield return (plainStart, i - plainStart, null);
            yield return (i, match.Content.Length, match);
            i += match.Content.Length;
            plainStart = i;
        }
        if (plainStart < text.Length) yield return (plainStart, text.Length - plainStart, null);
    }

    /// <summary>
    /// Encodes a batch, right-padded to the longest row (or cut to <paramref name="maxLength"/> from the right),
    /// with a mask that is true on real tokens.
    /// </summary>
    /// <param name="padId">Padding id; default <see cref="PadId"/>.</param>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts, int? padId = null, int? maxLength = null, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (maxLength is <= 0) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be positive.");
        int pad = padId ?? PadId;
        var rows = texts.Select(t => Encode(t, addSpecialTokens)).Select(r => maxLength is int m && r.Length > m ? r[..m] : r).ToArray();
        return TokenBatch.FromRows(rows, pad);
    }

    // ---------------------------------------------------------------- decoding

    /// <summary>
    /// Text of <paramref name="ids"/>: byte-level tokens back to bytes, added tokens as written, then UTF-8
    /// (invalid sequences, e.g. half a character, become U+FFFD).
    /// </summary>
    /// <param name="skipSpecialTokens">Drops special added tokens (non-special added tokens stay).</param>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            string token;
            if (addedById.TryGetValue(id, out var added))
            {
                if (skipSpecialTokens && added.Special) continue;
                token = added.Content;
            }
            else if (!idToToken.TryGetValue(id, out token!))
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (size {VocabSize}).");
            // As Hugging Face's ByteLevel decoder: a token made only of byte-level characters becomes those
            // bytes; any other token (an added token with other characters) keeps its own UTF-8.
            if (!ByteLevel.TryAppendBytes(token, bytes)) bytes.AddRange(Encoding.UTF8.GetBytes(token));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
