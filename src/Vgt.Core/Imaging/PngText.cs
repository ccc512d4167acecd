using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Vgt.Imaging;

/// <summary>Which PNG text chunk carries an entry.</summary>
public enum PngTextKind
{
    /// <summary><c>iTXt</c>, uncompressed UTF-8 (any text without NUL).</summary>
    International,
    /// <summary><c>tEXt</c>, Latin-1; refused when the text has characters outside Latin-1.</summary>
    Latin1,
    /// <summary><c>tEXt</c> when the text is Latin-1, else <c>iTXt</c> (what most image tools do).</summary>
    Auto,
}

/// <summary>One text entry to write into a PNG.</summary>
public readonly record struct PngTextEntry(string Keyword, string Text, PngTextKind Kind = PngTextKind.International);

/// <summary>
/// Reads and writes PNG text chunks (<c>tEXt</c>, <c>zTXt</c>, <c>iTXt</c>) without decoding the image.
/// Writing inserts the new chunks just before <c>IEND</c> and removes earlier text chunks with the same keyword.
/// Reading checks the signature, every chunk's length and CRC, that <c>IHDR</c> comes first and that
/// <c>IEND</c> is reached; text sizes are bounded (also after decompression).
/// </summary>
public static class PngText
{
    /// <summary>Largest text of one entry, in bytes, written or read (after decompression).</summary>
    public const int MaxEntryBytes = 8 << 20;

    /// <summary>Largest sum of all text read from one file, in bytes.</summary>
    public const long MaxTotalBytes = 64L << 20;

    internal static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly Encoding Latin1 = Encoding.Latin1;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ---------------------------------------------------------------- writing

    /// <summary>Returns a copy of <paramref name="png"/> with one <c>iTXt</c> chunk per entry (keys in the dictionary's order).</summary>
    public static byte[] Write(byte[] png, IReadOnlyDictionary<string, string> entries, PngTextKind kind = PngTextKind.International) =>
        Write(png, entries.Select(e => new PngTextEntry(e.Key, e.Value, kind)));

    /// <summary>Returns a copy of <paramref name="png"/> with the entries inserted before <c>IEND</c>.</summary>
    public static byte[] Write(byte[] png, IEnumerable<PngTextEntry> entries, string source = "<bytes>")
    {
        var list = entries.ToList();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var newChunks = new List<(string Type, byte[] Data)>();
        foreach (var e in list)
        {
            ValidateKeyword(e.Keyword);
            if (!keys.Add(e.Keyword)) throw new ArgumentException($"PNG text keyword '{e.Keyword}' is given twice.");
            newChunks.Add(EncodeEntry(e));
        }

        var chunks = ParseChunks(png, source);
        using var output = new MemoryStream(png.Length + newChunks.Sum(c => c.Data.Length + 12));
        output.Write(Signature);
        foreach (var c in chunks)
        {
            if (c.Type == "IEND") break;
            if (IsTextChunk(c.Type) && keys.Contains(KeywordOf(png.AsSpan(c.DataOffset, c.Length), c, source))) continue;
            output.Write(png, c.DataOffset - 8, c.Length + 12);
        }
        foreach (var (type, data) in newChunks) WriteChunk(output, type, data);
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static (string Type, byte[] Data) EncodeEntry(PngTextEntry e)
    {
        if (e.Text.Contains('\0')) throw new ArgumentException($"PNG text for '{e.Keyword}' contains a NUL character, which PNG text chunks cannot hold.");
        bool latin1 = e.Text.All(ch => ch <= '\u00FF');
        var kind = e.Kind == PngTextKind.Auto ? (latin1 ? PngTextKind.Latin1 : PngTextKind.International) : e.Kind;
        var key = Latin1.GetBytes(e.Keyword);
        byte[] data;
        if (kind == PngTextKind.Latin1)
        {
            if (!latin1) throw new ArgumentException($"PNG text for '{e.Keyword}' has characters outside Latin-1; use PngTextKind.International or Auto.");
            var text = Latin1.GetBytes(e.Text);
            data = [.. key, 0, .. text];
        }
        else
        {
            var text = StrictUtf8.GetBytes(e.Text);
            // keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, text
            data = [.. key, 0, 0, 0, 0, 0, .. text];
        }
        if (data.Length - key.Length > MaxEntryBytes)
            throw new ArgumentException($"PNG text for '{e.Keyword}' is {data.Length:N0} bytes, above the limit of {MaxEntryBytes:N0}.");
        return (kind == PngTextKind.Latin1 ? "tEXt" : "iTXt", data);
    }

    /// <summary>PNG keywords: 1–79 printable Latin-1 characters, no leading, trailing or double spaces.</summary>
    internal static void ValidateKeyword(string keyword)
    {
        string? problem = keyword.Length is < 1 or > 79 ? "must have 1 to 79 characters"
            : keyword.Any(ch => ch is < ' ' or > '~' and < '\u00A1' or > '\u00FF') ? "must use printable Latin-1 characters only"
            : keyword.StartsWith(' ') || keyword.EndsWith(' ') || keyword.Contains("  ") ? "must not have leading, trailing or consecutive spaces"
            : null;
        if (problem is not null) throw new ArgumentException($"Invalid PNG text keyword '{keyword}': it {problem}.");
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        output.Write(header);
        output.Write(data);
        uint crc = Crc32.Finish(Crc32.Update(Crc32.Update(0xFFFFFFFFu, header[4..]), data));
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        output.Write(tail);
    }

    // ---------------------------------------------------------------- reading

    /// <summary>All text entries of a PNG file (tEXt, zTXt, iTXt); for a repeated keyword the last one wins.</summary>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(fs, path);
    }

    /// <summary>All text entries of PNG bytes.</summary>
    public static IReadOnlyDictionary<string, string> Read(byte[] png, string source = "<bytes>")
    {
        using var ms = new MemoryStream(png, writable: false);
        return Read(ms, source);
    }

    /// <summary>All text entries of a PNG stream, read to its <c>IEND</c> chunk (the CRC of every chunk is checked).</summary>
    public static IReadOnlyDictionary<string, string> Read(Stream stream, string source = "<stream>")
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        Span<byte> head = stackalloc byte[8];
        if (!TryReadExactly(stream, head)) throw new ImageFormatException(source, "the file is shorter than the PNG signature");
        if (!head.SequenceEqual(Signature)) throw new ImageFormatException(source, "not a PNG file (wrong signature)");
        long offset = 8, total = 0;
        bool first = true;
        var buffer = new byte[1 << 16];
        while (true)
        {
            if (!TryReadExactly(stream, head)) throw new ImageFormatException(source, $"truncated: the file ends at byte {offset} without an IEND chunk");
            var (length, type) = ChunkHeader(head, offset, source);
            CheckOrder(type, first, offset, source);
            first = false;
            bool text = IsTextChunk(type);
            if (text && length > MaxEntryBytes + 80L)
                throw new ImageFormatException(source, $"the {type} chunk at byte {offset} is {length:N0} bytes, above the text limit of {MaxEntryBytes:N0}");
            uint crc = Crc32.Update(0xFFFFFFFFu, head[4..]);
            byte[]? data = text ? new byte[length] : null;
            long left = length;
            while (left > 0)
            {
                int n = (int)Math.Min(left, buffer.Length);
                var dst = data is null ? buffer.AsSpan(0, n) : data.AsSpan((int)(length - left), n);
                if (!TryReadExactly(stream, dst)) throw new ImageFormatException(source, $"truncated inside the {type} chunk at byte {offset}");
                crc = Crc32.Update(crc, dst);
                left -= n;
            }
            var crcBytes = head[..4];
            if (!TryReadExactly(stream, crcBytes)) throw new ImageFormatException(source, $"truncated inside the {type} chunk at byte {offset}");
            CheckCrc(BinaryPrimitives.ReadUInt32BigEndian(crcBytes), Crc32.Finish(crc), type, offset, source);
            if (type == "IEND") return result;
            if (data is not null)
            {
                var chunk = new Chunk(type, (int)offset + 8, (int)length);
                var (key, value) = DecodeText(data, chunk, source);
                total += Encoding.UTF8.GetByteCount(value);
                if (total > MaxTotalBytes) throw new ImageFormatException(source, $"the text chunks hold more than {MaxTotalBytes:N0} bytes in all");
                result[key] = value;
            }
            offset += 12 + length;
        }
    }

    private static (string Key, string Value) DecodeText(ReadOnlySpan<byte> data, Chunk c, string source)
    {
        string key = KeywordOf(data, c, source);
        var rest = data[(key.Length + 1)..];
        switch (c.Type)
        {
            case "tEXt":
                return (key, Latin1.GetString(rest));
            case "zTXt":
                if (rest.Length < 1 || rest[0] != 0) throw Corrupt(c, source, "unknown compression method");
                return (key, Latin1.GetString(Inflate(rest[1..], c, source)));
            default: // iTXt
            {
                if (rest.Length < 2) throw Corrupt(c, source, "missing compression flag and method");
                byte flag = rest[0], method = rest[1];
                if (flag > 1 || (flag == 1 && method != 0)) throw Corrupt(c, source, "unknown compression flag or method");
                rest = rest[2..];
                int lang = rest.IndexOf((byte)0);
                if (lang < 0) throw Corrupt(c, source, "unterminated language tag");
                rest = rest[(lang + 1)..];
                int translated = rest.IndexOf((byte)0);
                if (translated < 0) throw Corrupt(c, source, "unterminated translated keyword");
                rest = rest[(translated + 1)..];
                var bytes = flag == 1 ? Inflate(rest, c, source) : rest.ToArray();
                try
                {
                    return (key, StrictUtf8.GetString(bytes));
                }
                catch (DecoderFallbackException)
                {
                    throw Corrupt(c, source, "the text is not valid UTF-8");
                }
            }
        }
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed, Chunk c, string source)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray(), writable: false);
            using var z = new ZLibStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[1 << 16];
            int n;
            while ((n = z.Read(buffer)) > 0)
            {
                if (output.Length + n > MaxEntryBytes) throw Corrupt(c, source, $"the text decompresses to more than {MaxEntryBytes:N0} bytes");
                output.Write(buffer, 0, n);
            }
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(c, source, $"invalid compressed text ({e.Message})");
        }
    }

    // ---------------------------------------------------------------- chunk layout

    internal readonly record struct Chunk(string Type, int DataOffset, int Length);

    /// <summary>Validated chunk list of an in-memory PNG, up to and including IEND (trailing bytes are ignored).</summary>
    internal static List<Chunk> ParseChunks(ReadOnlySpan<byte> png, string source)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature)) throw new ImageFormatException(source, "not a PNG file (wrong signature)");
        var chunks = new List<Chunk>();
        long offset = 8;
        while (true)
        {
            if (offset + 8 > png.Length) throw new ImageFormatException(source, $"truncated: the file ends at byte {png.Length} without an IEND chunk");
            var (length, type) = ChunkHeader(png.Slice((int)offset, 8), offset, source);
            CheckOrder(type, chunks.Count == 0, offset, source);
            if (offset + 12 + length > png.Length) throw new ImageFormatException(source, $"truncated inside the {type} chunk at byte {offset}");
            var typeAndData = png.Slice((int)offset + 4, 4 + (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png.Slice((int)(offset + 8 + length), 4));
            CheckCrc(stored, Crc32.Compute(typeAndData), type, offset, source);
            chunks.Add(new Chunk(type, (int)offset + 8, (int)length));
            if (type == "IEND") return chunks;
            offset += 12 + length;
        }
    }

    private static (long Length, string Type) ChunkHeader(ReadOnlySpan<byte> header, long offset, string source)
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > int.MaxValue) throw new ImageFormatException(source, $"the chunk at byte {offset} declares an invalid length {length}");
        var typeBytes = header.Slice(4, 4);
        foreach (byte b in typeBytes)
            if (b is not (>= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z'))
                throw new ImageFormatException(source, $"the chunk at byte {offset} has an invalid type (corrupt file)");
        return (length, Encoding.ASCII.GetString(typeBytes));
    }

    private static void CheckOrder(string type, bool first, long offset, string source)
    {
        if (first && type != "IHDR") throw new ImageFormatException(source, $"the first chunk is {type}, not IHDR");
        if (!first && type == "IHDR") throw new ImageFormatException(source, $"a second IHDR chunk at byte {offset}");
    }

    private static void CheckCrc(uint stored, uint computed, string type, long offset, string source)
    {
        if (stored != computed)
            throw new ImageFormatException(source, $"CRC mismatch in the {type} chunk at byte {offset}: stored 0x{stored:X8}, computed 0x{computed:X8} (corrupt file)");
    }

    private static bool IsTextChunk(string type) => type is "tEXt" or "zTXt" or "iTXt";

    private static string KeywordOf(ReadOnlySpan<byte> data, Chunk c, string source)
    {
        int end = data.IndexOf((byte)0);
        if (end is < 1 or > 79) throw Corrupt(c, source, "missing or invalid keyword");
        return Latin1.GetString(data[..end]);
    }

    private static ImageFormatException Corrupt(Chunk c, string source, string problem) =>
        new(source, $"the {c.Type} chunk at byte {c.DataOffset - 8} is invalid: {problem}");

    private static bool TryReadExactly(Stream stream, Span<byte> buffer)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return read == buffer.Length;
    }
}
