using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>Shape arithmetic with overflow checks, and reading raw little-endian tensor bytes from a stream.</summary>
internal static class TensorBytes
{
    /// <summary>Elements × element size, or null when a dim is negative or the product overflows a long.</summary>
    public static long? ByteCount(IReadOnlyList<long> shape, int elementSize)
    {
        long n = elementSize;
        foreach (var d in shape)
        {
            if (d < 0) return null;
            try { n = checked(n * d); }
            catch (OverflowException) { return null; }
        }
        return n;
    }

    /// <summary>Row-major (C-contiguous) strides for <paramref name="shape"/>.</summary>
    public static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(1, shape[i]);
        }
        return strides;
    }

    /// <summary>
    /// Reads exactly the tensor's bytes from <paramref name="source"/> into a new CPU tensor of
    /// <paramref name="shape"/>. A stream that ends early raises <see cref="CheckpointFormatException"/>.
    /// The caller has already checked that the byte count is backed by the file.
    /// </summary>
    public static Tensor Read(Stream source, long byteCount, ScalarType dtype, long[] shape, string path, string name)
    {
        var t = empty(shape, dtype);
        try
        {
            if (byteCount > 0) t.ReadBytesFromStream(new ExactStream(source, byteCount, path, name), 1 << 20);
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>Converts to <paramref name="dtype"/> (null: keep), disposing the input when a copy is made.</summary>
    public static Tensor Convert(Tensor t, ScalarType? dtype)
    {
        if (dtype is not { } target || t.dtype == target) return t;
        using (t) return t.to_type(target);
    }

    /// <summary>Skips <paramref name="count"/> bytes (seeking when possible).</summary>
    public static void Skip(Stream s, long count, string path, string name)
    {
        if (count == 0) return;
        if (s.CanSeek)
        {
            s.Seek(count, SeekOrigin.Current);
            return;
        }
        var buffer = new byte[(int)Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int got = s.Read(buffer, 0, (int)Math.Min(count, buffer.Length));
            if (got <= 0) throw new CheckpointFormatException(path, $"data of tensor '{name}' ends early (truncated file)");
            count -= got;
        }
    }

    /// <summary>A read-only view of the next <c>length</c> bytes of a stream that fails loudly on a short read.</summary>
    private sealed class ExactStream(Stream inner, long length, string path, string name) : Stream
    {
        private readonly long _length = length;
        private long _left = length;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_left == 0 || buffer.Length == 0) return 0;
            var want = buffer[..(int)Math.Min(buffer.Length, _left)];
            int total = 0;
            while (total < want.Length)
            {
                int got = inner.Read(want[total..]);
                if (got <= 0)
                    throw new CheckpointFormatException(path,
                        $"data of tensor '{name}' ends after {_length - _left + total} of {_length} bytes (truncated file)");
                total += got;
            }
            _left -= total;
            return total;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _length - _left; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
