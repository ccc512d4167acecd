namespace Vgt.Tokenization;

/// <summary>
/// GPT-2's byte-to-unicode table used by byte-level BPE (Qwen2): every byte gets a printable character.
/// Bytes 0x21–0x7E, 0xA1–0xAC and 0xAE–0xFF map to the same code point; the other 68 bytes, in increasing
/// order, map to U+0100, U+0101, … (space → 'Ġ' U+0120, '\n' → 'Ċ' U+010A).
/// </summary>
public static class ByteLevel
{
    /// <summary>Character of each byte value.</summary>
    public static readonly IReadOnlyList<char> ByteToChar;

    /// <summary>The 256 byte values in GPT-2's order (printable ones first); Qwen2's ids 0–255 follow it.</summary>
    public static readonly IReadOnlyList<byte> AlphabetOrder;

    static readonly Dictionary<char, byte> charToByte = new();

    static ByteLevel()
    {
        var map = new char[256];
        var order = new List<byte>(256);
        bool Printable(int b) => b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        for (int b = 0; b < 256; b++)
            if (Printable(b)) { map[b] = (char)b; order.Add((byte)b); }
        int next = 0;
        for (int b = 0; b < 256; b++)
            if (!Printable(b)) { map[b] = (char)(0x100 + next++); order.Add((byte)b); }
        for (int b = 0; b < 256; b++) charToByte[map[b]] = (byte)b;
        ByteToChar = map;
        AlphabetOrder = order;
    }

    /// <summary>UTF-8 bytes of <paramref name="text"/> written as byte-level characters.</summary>
    public static string Encode(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Appends the bytes of a byte-level token; false if a character is outside the table.</summary>
    public static bool TryAppendBytes(string token, List<byte> output)
    {
        int start = output.Count;
        foreach (char c in token)
        {
            if (!charToByte.TryGetValue(c, out byte b))
            {
                output.RemoveRange(start, output.Count - start);
                return false;
            }
            output.Add(b);
        }
        return true;
    }
}
