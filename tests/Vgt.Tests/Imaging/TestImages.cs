using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Vgt.Tests.Imaging;

/// <summary>Hand-built PNG/JPEG bytes and fixture access for the imaging tests.</summary>
internal static class TestImages
{
    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A PNG chunk (length, type, data, CRC) with an independently computed (bitwise) CRC-32.</summary>
    public static byte[] Chunk(string type, byte[] data, bool corruptCrc = false)
    {
        var typeBytes = Encoding.ASCII.GetBytes(type);
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        typeBytes.CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        uint crc = BitwiseCrc([.. typeBytes, .. data]) ^ (corruptCrc ? 1u : 0u);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), crc);
        return chunk;
    }

    /// <summary>Slow reference CRC-32 (no table), so the library's table CRC is checked against other code.</summary>
    public static uint BitwiseCrc(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (uint)-(int)(c & 1));
        }
        return ~c;
    }

    public static byte[] Ihdr(uint width, uint height, byte bitDepth, byte colorType)
    {
        var d = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(d, width);
        BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), height);
        d[8] = bitDepth;
        d[9] = colorType;
        return d; // compression 0, filter 0, interlace 0
    }

    /// <summary>
    /// A PNG whose rows are given as raw samples (already packed to the bit depth, big-endian for 16-bit),
    /// each row written with filter type 0. <paramref name="extra"/> chunks go before IDAT (e.g. PLTE, tRNS).
    /// </summary>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, byte[][] rows, params (string Type, byte[] Data)[] extra)
    {
        using var raw = new MemoryStream();
        foreach (var row in rows)
        {
            raw.WriteByte(0);
            raw.Write(row);
        }
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw.ToArray());
        var parts = new List<byte[]> { PngSignature, Chunk("IHDR", Ihdr((uint)width, (uint)height, bitDepth, colorType)) };
        parts.AddRange(extra.Select(e => Chunk(e.Type, e.Data)));
        parts.Add(Chunk("IDAT", z.ToArray()));
        parts.Add(Chunk("IEND", []));
        return parts.SelectMany(p => p).ToArray();
    }

    /// <summary>Inserts an EXIF APP1 segment with the given orientation tag (1..8) right after a JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        Assert.True(jpeg[0] == 0xFF && jpeg[1] == 0xD8);
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8,           // big-endian TIFF header, IFD0 at offset 8
            0, 1,                                               // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1,                       // tag 0x0112 Orientation, type SHORT, count 1
            (byte)(orientation >> 8), (byte)orientation, 0, 0,  // value, padded
            0, 0, 0, 0,                                         // no next IFD
        ];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int length = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }

    /// <summary>Float [3, H, W] tensor from 8-bit RGB values given per pixel.</summary>
    public static Tensor FromPixels(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                int i = 3 * (y * width + x);
                rgb[i] = r;
                rgb[i + 1] = g;
                rgb[i + 2] = b;
            }
        return Vgt.Imaging.ImageTensor.FromRgbBytes(rgb, width, height);
    }

    /// <summary>v/127.5 − 1 in float32, the exact mapping the decoder must produce for 8-bit v.</summary>
    public static float Unit(int v) => v / 127.5f - 1f;

    public static float At(Tensor image, int c, int y, int x) => image[c, y, x].item<float>();

    /// <summary>Loads a safetensors fixture with the project's reader.</summary>
    public static Dictionary<string, Tensor> Fixture(string name) => Parity.Load("imaging", name).Tensors;

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vgt-imaging-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
