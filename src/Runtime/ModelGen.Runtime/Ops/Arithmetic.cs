using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

/// <summary>The math of x + c for a constant c in the generator's fused element-wise kernels (rule:
/// src/Generators/Ops/Arithmetic.cs; +, −, ⊙ and / between tensors are the vectors' own operators): scalar, Vector256
/// and Vector512 for the CPU engine, float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Shift<T>(T x, T c) where T : IFloatingPointIeee754<T> => x + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Shift<T>(Vector256<T> x, T c) where T : IFloatingPointIeee754<T> => x + Vector256.Create(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Shift<T>(Vector512<T> x, T c) where T : IFloatingPointIeee754<T> => x + Vector512.Create(c);

    /// <summary>ILGPU form.</summary>
    public static float Shift(float x, float c) => x + c;
}
