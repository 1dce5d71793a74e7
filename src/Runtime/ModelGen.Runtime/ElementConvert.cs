using System.Numerics;
using System.Runtime.InteropServices;

namespace ModelGen;

/// <summary>
/// Converts spans between the element types of ModelGen tensors (float, double, int, long, bool, Half, BFloat16), with
/// PyTorch's <c>.to(dtype)</c> semantics: floating → integer truncates toward zero (NaN gives 0, out-of-range values
/// saturate), integer → narrower integer wraps, anything → bool is <c>value != 0</c> (NaN is true), bool → number is 0
/// or 1, and anything → Float16/BFloat16 rounds to float first, then to nearest even (PyTorch converts through float).
/// Same-type copies are plain memory copies.
/// </summary>
internal static class ElementConvert
{
    public static void Convert<TSource, TDest>(ReadOnlySpan<TSource> source, Span<TDest> dest)
        where TSource : unmanaged where TDest : unmanaged
    {
        if (source.Length != dest.Length)
            throw new ArgumentException($"{source.Length} {typeof(TSource).Name} values cannot fill {dest.Length} {typeof(TDest).Name} elements.");
        if (typeof(TSource) == typeof(TDest))
        {
            MemoryMarshal.Cast<TSource, TDest>(source).CopyTo(dest);
            return;
        }
        if (typeof(TSource) == typeof(float)) From(MemoryMarshal.Cast<TSource, float>(source), dest);
        else if (typeof(TSource) == typeof(double)) From(MemoryMarshal.Cast<TSource, double>(source), dest);
        else if (typeof(TSource) == typeof(int)) From(MemoryMarshal.Cast<TSource, int>(source), dest);
        else if (typeof(TSource) == typeof(long)) From(MemoryMarshal.Cast<TSource, long>(source), dest);
        else if (typeof(TSource) == typeof(Half)) From(MemoryMarshal.Cast<TSource, Half>(source), dest);
        else if (typeof(TSource) == typeof(bool)) From(MemoryMarshal.Cast<TSource, byte>(source), dest); // stored as 0 or 1
        else if (typeof(TSource) == typeof(BFloat16))
        {
            // widen in chunks (exact), then convert the floats
            var bf = MemoryMarshal.Cast<TSource, BFloat16>(source);
            Span<float> buffer = stackalloc float[256];
            for (int start = 0; start < bf.Length; start += buffer.Length)
            {
                int n = Math.Min(buffer.Length, bf.Length - start);
                for (int i = 0; i < n; i++) buffer[i] = (float)bf[start + i];
                From<float, TDest>(buffer[..n], dest.Slice(start, n));
            }
        }
        else if (typeof(TSource) == typeof(byte) || typeof(TSource) == typeof(sbyte) || typeof(TSource) == typeof(short)
                 || typeof(TSource) == typeof(ushort) || typeof(TSource) == typeof(uint) || typeof(TSource) == typeof(ulong))
            FromOther(source, dest);
        else
            throw new NotSupportedException($"ModelGen cannot convert {typeof(TSource).Name} values to tensor elements (it converts float, double, int, long, bool, Half, BFloat16 and the other primitive integers).");
    }

    private static void FromOther<TSource, TDest>(ReadOnlySpan<TSource> source, Span<TDest> dest) where TSource : unmanaged where TDest : unmanaged
    {
        if (typeof(TSource) == typeof(byte)) From(MemoryMarshal.Cast<TSource, byte>(source), dest);
        else if (typeof(TSource) == typeof(sbyte)) From(MemoryMarshal.Cast<TSource, sbyte>(source), dest);
        else if (typeof(TSource) == typeof(short)) From(MemoryMarshal.Cast<TSource, short>(source), dest);
        else if (typeof(TSource) == typeof(ushort)) From(MemoryMarshal.Cast<TSource, ushort>(source), dest);
        else if (typeof(TSource) == typeof(uint)) From(MemoryMarshal.Cast<TSource, uint>(source), dest);
        else From(MemoryMarshal.Cast<TSource, ulong>(source), dest);
    }

    private static void From<TSource, TDest>(ReadOnlySpan<TSource> s, Span<TDest> dest)
        where TSource : unmanaged, INumberBase<TSource> where TDest : unmanaged
    {
        if (typeof(TDest) == typeof(TSource))
        {
            MemoryMarshal.Cast<TSource, TDest>(s).CopyTo(dest);
            return;
        }
        if (typeof(TDest) == typeof(float))
        {
            var d = MemoryMarshal.Cast<TDest, float>(dest);
            for (int i = 0; i < s.Length; i++) d[i] = float.CreateTruncating(s[i]);
        }
        else if (typeof(TDest) == typeof(double))
        {
            var d = MemoryMarshal.Cast<TDest, double>(dest);
            for (int i = 0; i < s.Length; i++) d[i] = double.CreateTruncating(s[i]);
        }
        else if (typeof(TDest) == typeof(int))
        {
            var d = MemoryMarshal.Cast<TDest, int>(dest);
            for (int i = 0; i < s.Length; i++) d[i] = int.CreateTruncating(s[i]);
        }
        else if (typeof(TDest) == typeof(long))
        {
            var d = MemoryMarshal.Cast<TDest, long>(dest);
            for (int i = 0; i < s.Length; i++) d[i] = long.CreateTruncating(s[i]);
        }
        else if (typeof(TDest) == typeof(bool))
        {
            var d = MemoryMarshal.Cast<TDest, bool>(dest);
            for (int i = 0; i < s.Length; i++) d[i] = s[i] != TSource.Zero;
        }
        else if (typeof(TDest) == typeof(Half))
        {
            var d = MemoryMarshal.Cast<TDest, Half>(dest);
            for (int i = 0; i < s.Length; i++) d[i] = (Half)float.CreateTruncating(s[i]);
        }
        else if (typeof(TDest) == typeof(BFloat16))
        {
            var d = MemoryMarshal.Cast<TDest, BFloat16>(dest);
            for (int i = 0; i < s.Length; i++) d[i] = (BFloat16)float.CreateTruncating(s[i]);
        }
        else throw new NotSupportedException($"ModelGen cannot convert tensor elements to {typeof(TDest).Name} (it converts to float, double, int, long, bool, Half and BFloat16).");
    }
}
