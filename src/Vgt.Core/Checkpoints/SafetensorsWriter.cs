using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using Vgt.IO;
using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>
/// Writes safetensors files in one canonical layout: tensors sorted by name (ordinal), data packed in that
/// order, compact JSON header with <c>__metadata__</c> first (always present, keys sorted), padded with spaces
/// to a multiple of 8 bytes. The file is written to a temp file and renamed over the target, so an existing
/// file is replaced entirely and readers never see a half-written one.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        foreach (var name in names)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor", nameof(tensors));
            var t = tensors[name] ?? throw new ArgumentException($"tensor '{name}' is null", nameof(tensors));
            if (!CheckpointDTypes.IsSupported(t.dtype))
                throw new ArgumentException($"tensor '{name}' has dtype {t.dtype}, which safetensors files here do not store (supported: {CheckpointDTypes.SupportedSafetensorsNames})", nameof(tensors));
        }

        var header = BuildHeader(names, tensors, metadata ?? new Dictionary<string, string>());
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            stream.Write(len);
            stream.Write(header);
            foreach (var name in names)
            {
                using var scope = NewDisposeScope();
                var t = tensors[name].detach().cpu().contiguous();
                if (t.NumberOfElements > 0) t.WriteBytesToStream(stream, 1 << 20);
            }
        });
    }

    /// <summary>The padded JSON header exactly as written (exposed for tests).</summary>
    internal static byte[] BuildHeader(string[] names, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            foreach (var key in metadata.Keys.Order(StringComparer.Ordinal)) w.WriteString(key, metadata[key]);
            w.WriteEndObject();
            long offset = 0;
            foreach (var name in names)
            {
                var t = tensors[name];
                long bytes = t.NumberOfElements * CheckpointDTypes.ElementSize(t.dtype);
                w.WriteStartObject(name);
                w.WriteString("dtype", CheckpointDTypes.SafetensorsName(t.dtype));
                w.WriteStartArray("shape");
                foreach (var d in t.shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }
}
