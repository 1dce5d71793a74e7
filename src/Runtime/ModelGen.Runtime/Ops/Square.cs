using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>x², element-wise (<c>torch.square</c>).</summary>
    protected static Tensor Square(Tensor x) => throw Dsl.OutsideForward(nameof(Square));
}

/// <summary>Square's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Square.cs), once per
/// form under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Square<T>(T x) where T : IFloatingPointIeee754<T> => x * x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SquareGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => (x + x) * g;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Square<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => x * x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> SquareGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => (x + x) * g;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Square<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => x * x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SquareGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => (x + x) * g;

    /// <summary>ILGPU form.</summary>
    public static float Square(float x) => x * x;

    /// <summary>ILGPU form.</summary>
    public static float SquareGrad(float x, float g) => 2f * x * g;
}
