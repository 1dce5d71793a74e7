using System.Diagnostics.CodeAnalysis;

namespace ModelGen;

/// <summary>Element type of a tensor. Models compute in <see cref="Float32"/> or <see cref="Float64"/>; the other types
/// are for data a model does not compute in directly: integer and boolean tensors (token ids, masks, counters), and the
/// 16-bit floating-point storage types of checkpoints (<see cref="Float16"/>, <see cref="BFloat16"/>), which are loaded
/// from and saved to safetensors and converted on use (<see cref="Tensor.To(DType)"/>). The numeric values of the
/// members are stable: new types are appended.</summary>
public enum DType
{
    Float32,
    Float64,
    Int32,
    Int64,
    /// <summary>One byte per element, 0 or 1 (C#'s <see cref="bool"/>).</summary>
    Bool,
    /// <summary>IEEE 754 binary16 (<see cref="System.Half"/>): a storage type.</summary>
    Float16,
    /// <summary>bfloat16 (<see cref="ModelGen.BFloat16"/>): the upper half of a float32; a storage type.</summary>
    BFloat16,
}

public static class DTypeExtensions
{
    /// <summary>Bytes per element: 8 (Float64, Int64), 4 (Float32, Int32), 2 (Float16, BFloat16) or 1 (Bool).</summary>
    public static int Size(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Float16 or DType.BFloat16 => 2,
        DType.Bool => 1,
        _ => throw Undefined(dtype),
    };

    /// <summary>The dtype's name in a safetensors header: F32, F64, I32, I64, BOOL, F16 or BF16.</summary>
    public static string SafeTensorsName(this DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        DType.Bool => "BOOL",
        DType.Float16 => "F16",
        DType.BFloat16 => "BF16",
        _ => throw Undefined(dtype),
    };

    /// <summary>The dtype of a safetensors dtype name (F32, F64, I32, I64, BOOL, F16, BF16; case-sensitive, as in the
    /// format). False for the names ModelGen reads only by converting (U8, I8, I16, U16, U32, U64) and for unknown names.</summary>
    public static bool TryParseSafeTensorsName([NotNullWhen(true)] string? name, out DType dtype)
    {
        switch (name)
        {
            case "F32": dtype = DType.Float32; return true;
            case "F64": dtype = DType.Float64; return true;
            case "I32": dtype = DType.Int32; return true;
            case "I64": dtype = DType.Int64; return true;
            case "BOOL": dtype = DType.Bool; return true;
            case "F16": dtype = DType.Float16; return true;
            case "BF16": dtype = DType.BFloat16; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>The dtype of a safetensors dtype name; throws <see cref="FormatException"/> naming the name and the known ones.</summary>
    public static DType ParseSafeTensorsName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (TryParseSafeTensorsName(name, out var dtype)) return dtype;
        throw new FormatException($"'{name}' is not a safetensors dtype ModelGen tensors hold (known: F32, F64, I32, I64, BOOL, F16, BF16).");
    }

    /// <summary>True for Float32, Float64, Float16 and BFloat16.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16 => true,
        DType.Int32 or DType.Int64 or DType.Bool => false,
        _ => throw Undefined(dtype),
    };

    /// <summary>The dtype whose elements are <typeparamref name="T"/>: float, double, int, long, bool,
    /// <see cref="System.Half"/> or <see cref="ModelGen.BFloat16"/>.</summary>
    public static DType Of<T>() => typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(double) ? DType.Float64
        : typeof(T) == typeof(int) ? DType.Int32
        : typeof(T) == typeof(long) ? DType.Int64
        : typeof(T) == typeof(bool) ? DType.Bool
        : typeof(T) == typeof(Half) ? DType.Float16
        : typeof(T) == typeof(BFloat16) ? DType.BFloat16
        : throw new NotSupportedException(
            $"ModelGen tensors hold float, double, int, long, bool, Half or BFloat16, not {typeof(T).Name}.");

    internal static bool IsElementType<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(int)
        || typeof(T) == typeof(long) || typeof(T) == typeof(bool) || typeof(T) == typeof(Half) || typeof(T) == typeof(BFloat16);

    private static ArgumentOutOfRangeException Undefined(DType dtype)
        => new(nameof(dtype), dtype, $"{(int)dtype} is not a defined {nameof(DType)}.");
}
