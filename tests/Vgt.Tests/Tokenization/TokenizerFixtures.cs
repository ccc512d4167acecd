using System.Text.Json;
using Vgt.Tokenization;

namespace Vgt.Tests.Tokenization;

/// <summary>Paths and loaders for tests/Vgt.Tests/Fixtures/tokenization (see its README.md).</summary>
static class TokenizerFixtures
{
    public static string Dir(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Fixtures", "tokenization", .. parts]);

    /// <summary>Trained by our BpeTrainer (`vgt tokenizer train --vocab-size 1024`) on corpus.txt.</summary>
    public static string TinyDir => Dir("tiny");

    /// <summary>The real Qwen2 vocabulary/merges cut to what the parity strings touch, InternVL3's added tokens.</summary>
    public static string Qwen2SubsetDir => Dir("qwen2-subset");

    static Qwen2Tokenizer? tiny, subset;
    public static Qwen2Tokenizer Tiny => tiny ??= Qwen2Tokenizer.Load(TinyDir);
    public static Qwen2Tokenizer Qwen2Subset => subset ??= Qwen2Tokenizer.Load(Qwen2SubsetDir);

    public sealed record ParityCase(string Text, int[] Ids);

    public static IReadOnlyList<ParityCase> Parity(string dir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "parity.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => new ParityCase(c.GetProperty("text").GetString()!,
                c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()))
            .ToList();
    }

    /// <summary>A fresh temp folder, deleted by Dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vgt-tok-" + Guid.NewGuid().ToString("N"));
        public TempDir() => Directory.CreateDirectory(Path);
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
    }

    /// <summary>Random valid Unicode text: ASCII, whitespace runs, combining marks, CJK, Hangul, astral letters, emoji, controls.</summary>
    public static string RandomText(Random rng, int maxCodePoints)
    {
        int[][] ranges =
        [
            [0x20, 0x7E], [0x20, 0x7E], [0x20, 0x7E], [0x09, 0x0D], [0x00, 0x1F], [0x80, 0x24F], [0x300, 0x36F],
            [0x370, 0x3FF], [0x400, 0x4FF], [0x590, 0x6FF], [0x900, 0x97F], [0x1100, 0x11FF], [0x2000, 0x206F],
            [0x3000, 0x30FF], [0x4E00, 0x9FFF], [0xAC00, 0xD7A3], [0xF900, 0xFAFF], [0xFF00, 0xFFEF],
            [0x1D400, 0x1D7FF], [0x1F300, 0x1FAFF], [0x20000, 0x2A6DF], [0x10000, 0x1007F], [0xE000, 0xE0FF],
        ];
        var sb = new System.Text.StringBuilder();
        int n = rng.Next(1, maxCodePoints + 1);
        for (int i = 0; i < n; i++)
        {
            var r = ranges[rng.Next(ranges.Length)];
            int cp = rng.Next(r[0], r[1] + 1);
            sb.Append(char.ConvertFromUtf32(cp));
            if (rng.Next(8) == 0) sb.Append(' ', rng.Next(1, 4));
        }
        return sb.ToString();
    }
}
