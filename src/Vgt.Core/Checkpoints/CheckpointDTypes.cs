using static TorchSharp.torch;

namespace Vgt.Checkpoints;

/// <summary>The dtypes checkpoints may hold, by safetensors name and by PyTorch storage class name.</summary>
public static class CheckpointDTypes
{
    private static readonly (string St, string Storage, ScalarType Type, int Size)[] Table =
    [
        ("F64", "DoubleStorage", ScalarType.Float64, 8),
        ("F32", "FloatStorage", ScalarType.Float32, 4),
        ("F16", "HalfStorage", ScalarType.Float16, 2),
        ("BF16", "BFloat16Storage", ScalarType.BFloat16, 2),
        ("I64", "LongStorage", ScalarType.Int64, 8),
        ("I32", "IntStorage", ScalarType.Int32, 4),
        ("I16", "ShortStorage", ScalarType.Int16, 2),
        ("I8", "CharStorage", ScalarType.Int8, 1),
        ("U8", "ByteStorage", ScalarType.Byte, 1),
        ("BOOL", "BoolStorage", ScalarType.Bool, 1),
    ];

    public static string SupportedSafetensorsNames => string.Join(", ", Table.Select(t => t.St));

    public static bool TryFromSafetensors(string name, out ScalarType type) => TryFind(t => t.St == name, out type);

    public static bool TryFromStorage(string storageClass, out ScalarType type) => TryFind(t => t.Storage == storageClass, out type);

    public static bool IsSupported(ScalarType type) => Table.Any(t => t.Type == type);

    public static string SafetensorsName(ScalarType type) =>
        Table.FirstOrDefault(t => t.Type == type).St ?? throw new ArgumentException($"dtype {type} cannot be stored in a checkpoint (supported: {SupportedSafetensorsNames})");

    public static int ElementSize(ScalarType type)
    {
        foreach (var t in Table) if (t.Type == type) return t.Size;
        throw new ArgumentException($"dtype {type} cannot be stored in a checkpoint (supported: {SupportedSafetensorsNames})");
    }

    private static bool TryFind(Func<(string St, string Storage, ScalarType Type, int Size), bool> match, out ScalarType type)
    {
        foreach (var t in Table)
        {
            if (!match(t)) continue;
            type = t.Type;
            return true;
        }
        type = default;
        return false;
    }
}
