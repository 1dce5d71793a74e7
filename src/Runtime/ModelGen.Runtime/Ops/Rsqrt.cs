using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>1/√x, element-wise (<c>torch.rsqrt</c>).</summary>
    protected static Tensor Rsqrt(Tensor x) => throw Dsl.OutsideForward(nameof(Rsqrt));
}

/// <summary>Rsqrt's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Rsqrt.cs), once per
/// form under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Rsqrt<T>(T x) where T : IFloatingPointIeee754<T> => T.One / T.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T RsqrtGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => -(g / (T.Sqrt(x) * (x + x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Rsqrt<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => Vector256<T>.One / Vector256.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> RsqrtGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => -(g / (Vector256.Sqrt(x) * (x + x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Rsqrt<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => Vector512<T>.One / Vector512.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> RsqrtGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => -(g / (Vector512.Sqrt(x) * (x + x)));

    /// <summary>ILGPU form.</summary>
    public static float Rsqrt(float x) => 1f / MathF.Sqrt(x);

    /// <summary>ILGPU form.</summary>
    public static float RsqrtGrad(float x, float g) => -g / (2f * x * MathF.Sqrt(x));
}
