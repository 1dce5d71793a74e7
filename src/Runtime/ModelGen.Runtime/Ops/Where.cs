using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>a where <paramref name="condition"/> is true, b elsewhere (<c>torch.where</c>; the three broadcast);
    /// the condition is a Bool tensor (a comparison, or a Bool input).</summary>
    protected static Tensor Where(Tensor condition, Tensor a, Tensor b) => throw Dsl.OutsideForward(nameof(Where));

    /// <summary><paramref name="value"/> where <paramref name="mask"/> is true, x elsewhere (<c>Tensor.masked_fill</c>;
    /// the mask broadcasts to x, such as a [B, 1, T] padding mask over [B, T, T] scores).</summary>
    protected static Tensor MaskedFill(Tensor x, Tensor mask, double value) => throw Dsl.OutsideForward(nameof(MaskedFill));
}

/// <summary>Where's and MaskedFill's math for the generator's fused element-wise kernels (rules: src/Generators/Ops/Where.cs):
/// a condition holds 0 or 1 (a Bool value in the kernel's element type). <c>WhereGrad(c, g)</c> is g where c, else 0;
/// <c>WhereNotGrad(c, g)</c> is g where not c — selects, so a NaN in the branch not taken never reaches a gradient.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Where<T>(T c, T a, T b) where T : IFloatingPointIeee754<T> => c != T.Zero ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T WhereGrad<T>(T c, T g) where T : IFloatingPointIeee754<T> => c != T.Zero ? g : T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T WhereNotGrad<T>(T c, T g) where T : IFloatingPointIeee754<T> => c != T.Zero ? T.Zero : g;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Where<T>(Vector256<T> c, Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.Equals(c, Vector256<T>.Zero), b, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> WhereGrad<T>(Vector256<T> c, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => Vector256.AndNot(g, Vector256.Equals(c, Vector256<T>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> WhereNotGrad<T>(Vector256<T> c, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => g & Vector256.Equals(c, Vector256<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Where<T>(Vector512<T> c, Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.Equals(c, Vector512<T>.Zero), b, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> WhereGrad<T>(Vector512<T> c, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => Vector512.AndNot(g, Vector512.Equals(c, Vector512<T>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> WhereNotGrad<T>(Vector512<T> c, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => g & Vector512.Equals(c, Vector512<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaskedFill<T>(T x, T mask, T value) where T : IFloatingPointIeee754<T> => mask != T.Zero ? value : x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MaskedFill<T>(Vector256<T> x, Vector256<T> mask, T value) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.Equals(mask, Vector256<T>.Zero), x, Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MaskedFill<T>(Vector512<T> x, Vector512<T> mask, T value) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.Equals(mask, Vector512<T>.Zero), x, Vector512.Create(value));

    /// <summary>ILGPU forms.</summary>
    public static float MaskedFill(float x, float mask, float value) => mask != 0f ? value : x;
    public static float Where(float c, float a, float b) => c != 0f ? a : b;
    public static float WhereGrad(float c, float g) => c != 0f ? g : 0f;
    public static float WhereNotGrad(float c, float g) => c != 0f ? 0f : g;
}
