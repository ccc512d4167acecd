namespace Vgt.Tokenization;

/// <summary>
/// Right-padded token ids of a batch, row-major [Count, Length], with the attention mask
/// (true = real token, false = padding) and each row's unpadded length.
/// </summary>
public sealed class TokenBatch
{
    public int Count { get; }
    public int Length { get; }
    /// <summary>[Count * Length], row-major.</summary>
    public int[] Ids { get; }
    /// <summary>[Count * Length], row-major; true where a real token sits.</summary>
    public bool[] Mask { get; }
    public int[] Lengths { get; }

    public TokenBatch(int count, int length, int[] ids, bool[] mask, int[] lengths)
    {
        if (ids.Length != count * length || mask.Length != count * length || lengths.Length != count)
            throw new ArgumentException($"Batch arrays do not match [{count}, {length}].");
        (Count, Length, Ids, Mask, Lengths) = (count, length, ids, mask, lengths);
    }

    /// <summary>Right-pads <paramref name="rows"/> with <paramref name="padId"/> to the longest row; mask true on real tokens.</summary>
    public static TokenBatch FromRows(IReadOnlyList<int[]> rows, int padId)
    {
        int length = rows.Count == 0 ? 0 : rows.Max(r => r.Length);
        var ids = new int[rows.Count * length];
        var mask = new bool[rows.Count * length];
        Array.Fill(ids, padId);
        for (int b = 0; b < rows.Count; b++)
        {
            rows[b].CopyTo(ids, b * length);
            mask.AsSpan(b * length, rows[b].Length).Fill(true);
        }
        return new TokenBatch(rows.Count, length, ids, mask, rows.Select(r => r.Length).ToArray());
    }

    public int this[int row, int position] => Ids[row * Length + position];

    /// <summary>Row <paramref name="row"/> without its padding.</summary>
    public int[] Row(int row) => Ids.AsSpan(row * Length, Lengths[row]).ToArray();

    /// <summary>The ids widened to int64 (TorchSharp's index type), row-major.</summary>
    public long[] IdsAsInt64() => Array.ConvertAll(Ids, x => (long)x);
}
