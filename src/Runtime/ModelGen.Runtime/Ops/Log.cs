using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>the natural logarithm, element-wise (<c>torch.log</c>): NaN for x &lt; 0, −∞ at 0.</summary>
    protected static Tensor Log(Tensor x) => throw Dsl.OutsideForward(nameof(Log));
}

/// <summary>Log's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Log.cs), once per
/// form under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Log<T>(T x) where T : IFloatingPointIeee754<T> => T.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T LogGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => g / x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => LogV(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LogGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => g / x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => LogV(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LogGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => g / x;

    /// <summary>ILGPU form.</summary>
    public static float Log(float x) => MathF.Log(x);

    /// <summary>ILGPU form.</summary>
    public static float LogGrad(float x, float g) => g / x;

    private static Vector256<T> LogV<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? Vector256.Log(x.As<T, float>()).As<float, T>() : Vector256.Log(x.As<T, double>()).As<double, T>();

    private static Vector512<T> LogV<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? Vector512.Log(x.As<T, float>()).As<float, T>() : Vector512.Log(x.As<T, double>()).As<double, T>();
}
