using System.Diagnostics;

namespace Vgt.Tokenization;

/// <summary>Settings of <see cref="BpeTrainer"/>.</summary>
/// <param name="VocabSize">Total ids: 256 byte symbols + learned merges + special tokens.</param>
/// <param name="SpecialTokens">Added special tokens, appended after the BPE vocabulary in this order.</param>
/// <param name="MinPairCount">Merging stops when the most frequent pair occurs fewer times than this.</param>
public sealed record BpeTrainerOptions(int VocabSize, IReadOnlyList<string>? SpecialTokens = null, int MinPairCount = 2)
{
    public IReadOnlyList<string> Specials => SpecialTokens ?? Qwen2SpecialTokens.Default;
}

/// <summary>What training did: merges learned, distinct pieces seen, time taken.</summary>
public sealed record BpeTrainingReport(int Merges, int DistinctPieces, long PieceCount, TimeSpan Elapsed);

/// <summary>
/// Learns byte-level BPE merges from text, the way the tokenizer applies them: the text between special
/// tokens is NFC-normalized and split by Qwen2's regex; each piece starts as its UTF-8 bytes (all 256 byte
/// symbols are always in the vocabulary, so nothing ever encodes as unknown); the most frequent adjacent pair
/// is merged, repeatedly, until the vocabulary is full. Ties go to the pair with the smaller (left, right) ids.
/// </summary>
/// <remarks>
/// Pair counts are updated incrementally: each merge re-counts only the words that contain the merged pair
/// (found through a pair → words index), and a max-heap with lazy deletion picks the next pair.
/// Ids: 0–255 are the byte symbols in GPT-2's order (as in Qwen2), then merges in the order learned, then the
/// special tokens.
/// </remarks>
public static class BpeTrainer
{
    /// <summary>Trains on <paramref name="texts"/> (documents or lines; pieces never span two of them).</summary>
    public static BpeModelData Train(IEnumerable<string> texts, BpeTrainerOptions options) => Train(texts, options, out _);

    public static BpeModelData Train(IEnumerable<string> texts, BpeTrainerOptions options, out BpeTrainingReport report)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        var specials = options.Specials;
        if (specials.Distinct().Count() != specials.Count || specials.Any(string.IsNullOrEmpty))
            throw new ArgumentException("Special tokens must be distinct and non-empty.", nameof(options));
        int mergesWanted = options.VocabSize - 256 - specials.Count;
        if (mergesWanted < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.VocabSize,
                $"VocabSize {options.VocabSize} is below the 256 byte symbols + {specials.Count} special tokens.");
        if (options.MinPairCount < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MinPairCount, "MinPairCount must be at least 1.");
        var clock = Stopwatch.StartNew();

        // 1. Count pieces.
        var pieceCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        long pieceTotal = 0;
        var specialSet = specials.ToArray();
        foreach (var text in texts)
        {
            if (string.IsNullOrEmpty(text)) continue;
            foreach (var segment in SplitOnSpecials(text, specialSet))
            {
                string normalized = UnicodeNfc.Normalize(segment);
                foreach (var (offset, length) in Qwen2PreTokenizer.Split(normalized))
                {
                    var piece = normalized.Substring(offset, length);
                    pieceCounts[piece] = pieceCounts.GetValueOrDefault(piece) + 1;
                    pieceTotal++;
                }
            }
        }

        // 2. Symbols: ids 0–255 are bytes in GPT-2's order.
        var tokens = new List<string>(options.VocabSize);
        var byteToId = new int[256];
        foreach (byte b in ByteLevel.AlphabetOrder)
        {
            byteToId[b] = tokens.Count;
            tokens.Add(ByteLevel.ByteToChar[b].ToString());
        }

        // Words in ordinal order of their text, so everything below is independent of hashing order.
        var pieces = pieceCounts.Keys.Order(StringComparer.Ordinal).ToArray();
        var words = new int[pieces.Length][];
        var freq = new long[pieces.Length];
        for (int w = 0; w < pieces.Length; w++)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(pieces[w]);
            words[w] = Array.ConvertAll(bytes, b => byteToId[b]);
            freq[w] = pieceCounts[pieces[w]];
        }

        // 3. Initial pair counts and pair → words index.
        var counts = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        for (int w = 0; w < words.Length; w++)
        {
            var s = words[w];
            for (int i = 0; i + 1 < s.Length; i++)
            {
                long key = Key(s[i], s[i + 1]);
                counts[key] = counts.GetValueOrDefault(key) + freq[w];
                if (!where.TryGetValue(key, out var set)) where[key] = set = new HashSet<int>();
                set.Add(w);
            }
        }
        var heap = new PriorityQueue<long, (long Count, long Key)>(Comparer<(long Count, long Key)>.Create(
            (x, y) => x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Key.CompareTo(y.Key)));
        foreach (var (key, c) in counts) heap.Enqueue(key, (c, key));

        // 4. Merge.
        var merges = new List<(string, string)>(mergesWanted);
        var changed = new HashSet<long>();
        var scratch = new List<int>(64);
        while (merges.Count < mergesWanted && heap.TryDequeue(out long best, out var prio))
        {
            if (counts.GetValueOrDefault(best) != prio.Count) continue;   // stale entry
            if (prio.Count < options.MinPairCount) break;
            int a = (int)(best >> 32), b = (int)(best & 0xFFFFFFFF);
            int merged = tokens.Count;
            tokens.Add(tokens[a] + tokens[b]);
            merges.Add((tokens[a], tokens[b]));

            changed.Clear();
            var affected = where[best].Order().ToArray();
            foreach (int w in affected)
            {
                var old = words[w];
                scratch.Clear();
                for (int i = 0; i < old.Length; i++)
                {
                    if (i + 1 < old.Length && old[i] == a && old[i + 1] == b) { scratch.Add(merged); i++; }
                    else scratch.Add(old[i]);
                }
                var now = scratch.ToArray();
                for (int i = 0; i + 1 < old.Length; i++)
                {
                    long key = Key(old[i], old[i + 1]);
                    counts[key] -= freq[w];
                    changed.Add(key);
                }
                for (int i = 0; i + 1 < old.Length; i++) where[Key(old[i], old[i + 1])].Remove(w);
                for (int i = 0; i + 1 < now.Length; i++)
                {
                    long key = Key(now[i], now[i + 1]);
                    counts[key] = counts.GetValueOrDefault(key) + freq[w];
                    changed.Add(key);
                    if (!where.TryGetValue(key, out var set)) where[key] = set = new HashSet<int>();
                    set.Add(w);
                }
                words[w] = now;
            }
            foreach (long key in changed)
            {
                long c = counts[key];
                if (c > 0) heap.Enqueue(key, (c, key));
                else { counts.Remove(key); where.Remove(key); }
            }
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
            if (!vocab.TryAdd(tokens[i], i))
                throw new InvalidOperationException($"Merge produced the existing token '{tokens[i]}'.");   // cannot happen: merges are unique pairs of distinct ids
        var added = specials.Select((s, i) => new AddedToken(tokens.Count + i, s, Special: true)).ToList();
        report = new BpeTrainingReport(merges.Count, pieces.Length, pieceTotal, clock.Elapsed);
        string? eos = specials.Contains(Qwen2SpecialTokens.ImEnd) ? Qwen2SpecialTokens.ImEnd : null;
        string? pad = specials.Contains(Qwen2SpecialTokens.EndOfText) ? Qwen2SpecialTokens.EndOfText : null;
        return new BpeModelData(vocab, merges, added, eos, pad);
    }

    static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    static IEnumerable<string> SplitOnSpecials(string text, string[] specials)
    {
        int start = 0;
        while (start < text.Length)
        {
            int best = -1, bestLength = 0;
            foreach (var s in specials)
            {
                int at = text.IndexOf(s, start, StringComparison.Ordinal);
                if (at >= 0 && (best < 0 || at < best || (at == best && s.Length > bestLength))) { best = at; bestLength = s.Length; }
            }
            if (best < 0) { yield return text[start..]; yield break; }
            if (best > start) yield return text[start..best];
            start = best + bestLength;
        }
    }
}
