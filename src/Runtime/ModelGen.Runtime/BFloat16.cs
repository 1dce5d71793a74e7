using System.Globalization;

namespace ModelGen;

/// <summary>
/// A bfloat16 value: the upper 16 bits of an IEEE 754 float32 (sign, 8 exponent bits, 7 mantissa bits), the storage type
/// of <see cref="DType.BFloat16"/> tensors. Widening to float is exact; narrowing from float rounds to nearest, ties to
/// even (as PyTorch does), overflowing to ±infinity. A NaN stays a NaN (its sign and upper payload bits kept, made quiet).
/// Narrowing from double goes through float, as PyTorch's conversion does.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>, IFormattable
{
    private readonly ushort _bits;

    private BFloat16(ushort bits) => _bits = bits;

    /// <summary>The 16-bit pattern (what a safetensors BF16 tensor stores, little-endian).</summary>
    public ushort Bits => _bits;

    /// <summary>The value with the given bit pattern.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    public static BFloat16 Zero => new(0x0000);
    public static BFloat16 One => new(0x3F80);
    public static BFloat16 PositiveInfinity => new(0x7F80);
    public static BFloat16 NegativeInfinity => new(0xFF80);
    public static BFloat16 NaN => new(0x7FC0);
    /// <summary>The largest finite value, (2 − 2⁻⁷)·2¹²⁷ ≈ 3.3895e38.</summary>
    public static BFloat16 MaxValue => new(0x7F7F);
    public static BFloat16 MinValue => new(0xFF7F);
    /// <summary>The smallest positive (subnormal) value, 2⁻¹³³.</summary>
    public static BFloat16 Epsilon => new(0x0001);

    public static bool IsNaN(BFloat16 value) => (value._bits & 0x7FFF) > 0x7F80;
    public static bool IsInfinity(BFloat16 value) => (value._bits & 0x7FFF) == 0x7F80;
    public static bool IsFinite(BFloat16 value) => (value._bits & 0x7F80) != 0x7F80;

    /// <summary>Rounds a float to the nearest bfloat16, ties to even.</summary>
    public static explicit operator BFloat16(float value) => new(Narrow(value));

    /// <summary>Rounds a double to float, then to bfloat16 (PyTorch's double → bfloat16).</summary>
    public static explicit operator BFloat16(double value) => new(Narrow((float)value));

    /// <summary>Exact.</summary>
    public static explicit operator float(BFloat16 value) => BitConverter.Int32BitsToSingle(value._bits << 16);

    /// <summary>Exact.</summary>
    public static explicit operator double(BFloat16 value) => (float)value;

    internal static ushort Narrow(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((u >> 16) | 0x0040); // NaN: keep sign and upper payload, quiet
        u += 0x7FFF + ((u >> 16) & 1);
        return (ushort)(u >> 16);
    }

    // IEEE comparisons, as for float: NaN is unequal to everything, +0 == −0.
    public static bool operator ==(BFloat16 a, BFloat16 b) => (float)a == (float)b;
    public static bool operator !=(BFloat16 a, BFloat16 b) => (float)a != (float)b;
    public static bool operator <(BFloat16 a, BFloat16 b) => (float)a < (float)b;
    public static bool operator >(BFloat16 a, BFloat16 b) => (float)a > (float)b;
    public static bool operator <=(BFloat16 a, BFloat16 b) => (float)a <= (float)b;
    public static bool operator >=(BFloat16 a, BFloat16 b) => (float)a >= (float)b;

    /// <summary>As <see cref="float.Equals(float)"/>: NaN equals NaN, +0 equals −0.</summary>
    public bool Equals(BFloat16 other) => ((float)this).Equals((float)other);
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);
    public override int GetHashCode() => ((float)this).GetHashCode();
    public int CompareTo(BFloat16 other) => ((float)this).CompareTo((float)other);

    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
    public string ToString(string? format, IFormatProvider? formatProvider) => ((float)this).ToString(format, formatProvider);
}
