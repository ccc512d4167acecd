using System.Text;
using Microsoft.ML.Tokenizers;

namespace Vgt.Tokenization;

/// <summary>
/// Unicode Normalization Form C (canonical decomposition, canonical ordering, canonical composition),
/// in managed code with tables from <see cref="UnicodeNfcData"/>.
/// </summary>
/// <remarks>
/// The project runs with InvariantGlobalization=true, and there <c>string.Normalize</c> leaves non-ASCII
/// text unchanged (checked: "e\u0301" stays two code points), so Qwen2's NFC normalizer cannot rely on it.
/// Algorithm as in UAX #15 (decompose recursively, stable-sort marks by combining class, compose each
/// unblocked mark with the last starter; Hangul syllables algorithmically).
/// </remarks>
public static class UnicodeNfc
{
    /// <summary>The Unicode version of the tables.</summary>
    public static string UnicodeVersion => UnicodeNfcData.UnicodeVersion;

    const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    static readonly Lazy<Tables> data = new(Tables.Build);

    /// <summary>Returns the NFC form of <paramref name="text"/>; throws on unpaired surrogates.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Quick check: every code point below U+0300 is already NFC (no marks, no singletons there).
        int firstSuspect = 0;
        while (firstSuspect < text.Length && text[firstSuspect] < '\u0300') firstSuspect++;
        if (firstSuspect == text.Length) return text;

        var t = data.Value;
        var cps = new List<int>(text.Length + 8);
        // Decompose + canonical ordering (insertion of each mark among the marks before it).
        for (int i = 0; i < text.Length;)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int used);
            if (status != System.Buffers.OperationStatus.Done)
                throw new ArgumentException($"Text has an unpaired UTF-16 surrogate at index {i}; it is not valid Unicode.", nameof(text));
            i += used;
            AppendDecomposed(t, rune.Value, cps);
        }
        Compose(t, cps);

        var sb = new StringBuilder(cps.Count);
        foreach (int cp in cps) sb.Append(new Rune(cp).ToString());
        return sb.ToString();
    }

    static void AppendDecomposed(Tables t, int cp, List<int> output)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (t.Decomposition.TryGetValue(cp, out var parts))
        {
            foreach (int p in parts) AppendDecomposed(t, p, output);
            return;
        }
        int cc = t.Ccc(cp);
        int at = output.Count;
        if (cc != 0)
            while (at > 0 && t.Ccc(output[at - 1]) > cc) at--;   // stable: equal classes keep their order
        output.Insert(at, cp);
    }

    static void Compose(Tables t, List<int> cps)
    {
        if (cps.Count == 0) return;
        int starterPos = 0;
        int lastClass = t.Ccc(cps[0]) == 0 ? 0 : 256;   // a leading mark blocks everything after it
        int write = 1;
        for (int read = 1; read < cps.Count; read++)
        {
            int ch = cps[read];
            int chClass = t.Ccc(ch);
            if ((lastClass < chClass || lastClass == 0) && TryCompose(t, cps[starterPos], ch, out int composite))
            {
                cps[starterPos] = composite;
                continue;
            }
            if (chClass == 0) starterPos = write;
            lastClass = chClass;
            cps[write++] = ch;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    static bool TryCompose(Tables t, int a, int b, out int composite)
    {
        if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
        {
            composite = SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
            return true;
        }
        if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
        {
            composite = a + (b - TBase);
            return true;
        }
        return t.Composition.TryGetValue(((long)a << 21) | (uint)b, out composite);
    }

    sealed class Tables
    {
        public readonly Dictionary<int, int> CombiningClass = new();
        public readonly Dictionary<int, int[]> Decomposition = new();
        public readonly Dictionary<long, int> Composition = new();

        public int Ccc(int cp) => cp < 0x300 ? 0 : CombiningClass.GetValueOrDefault(cp);

        public static Tables Build()
        {
            var t = new Tables();
            foreach (var entry in Entries(UnicodeNfcData.CombiningClasses))
            {
                int colon = entry.IndexOf(':');
                t.CombiningClass[Hex(entry[..colon])] = int.Parse(entry[(colon + 1)..]);
            }
            var excluded = new HashSet<int>(Entries(UnicodeNfcData.CompositionExclusions).Select(Hex));
            foreach (var entry in Entries(UnicodeNfcData.Decompositions))
            {
                int eq = entry.IndexOf('=');
                int cp = Hex(entry[..eq]);
                int[] parts = entry[(eq + 1)..].Split(' ').Select(Hex).ToArray();
                t.Decomposition[cp] = parts;
                if (parts.Length == 2 && !excluded.Contains(cp))
                    t.Composition[((long)parts[0] << 21) | (uint)parts[1]] = cp;
            }
            return t;
        }

        static IEnumerable<string> Entries(string packed) => packed.Split(';', StringSplitOptions.RemoveEmptyEntries);
        static int Hex(string s) => int.Parse(s, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Qwen2's normalizer (<c>{"type": "NFC"}</c>) for Microsoft.ML.Tokenizers.</summary>
public sealed class NfcNormalizer : Normalizer
{
    public static readonly NfcNormalizer Instance = new();

    public override string Normalize(string original) => UnicodeNfc.Normalize(original);

    public override string Normalize(ReadOnlySpan<char> original) => UnicodeNfc.Normalize(original.ToString());
}
