using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>softplus(x) = log(1 + eˣ), a smooth ReLU (PyTorch's <c>F.softplus</c> with β = 1; computed stably for every
    /// x instead of switching to x above a threshold).</summary>
    protected static Tensor Softplus(Tensor x) => throw Dsl.OutsideForward(nameof(Softplus));
}

/// <summary>Softplus's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Softplus.cs), once
/// per form under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.
/// softplus(x) = max(x, 0) + log1p(e^−|x|), which neither overflows nor loses the tail for very negative x;
/// d/dx = σ(x).</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Softplus<T>(T x) where T : IFloatingPointIeee754<T> => T.Max(x, T.Zero) + Log1p(T.Exp(-T.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SoftplusGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => g * VMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Softplus<T>(Vector256<T> x) where T : IFloatingPointIeee754<T>
        => Vector256.Max(x, Vector256<T>.Zero) + Log1p(VMath.Exp(-Vector256.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> SoftplusGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T> => g * VMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Softplus<T>(Vector512<T> x) where T : IFloatingPointIeee754<T>
        => Vector512.Max(x, Vector512<T>.Zero) + Log1p(VMath.Exp(-Vector512.Abs(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SoftplusGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T> => g * VMath.Sigmoid(x);

    /// <summary>ILGPU form.</summary>
    public static float Softplus(float x) => MathF.Max(x, 0f) + Log1p(MathF.Exp(-MathF.Abs(x)));

    /// <summary>ILGPU form.</summary>
    public static float SoftplusGrad(float x, float g) => g / (1f + MathF.Exp(-x));

    // log1p(u) for u in [0, 1] as log(w)·u/(w − 1) with w = 1 + u (Goldberg): exact to a few ulp where log(1 + u) would
    // lose u's digits to the rounding of 1 + u
    private static Vector256<T> Log1p<T>(Vector256<T> u) where T : IFloatingPointIeee754<T>
    {
        var w = Vector256<T>.One + u;
        var log = typeof(T) == typeof(float) ? Vector256.Log(w.As<T, float>()).As<float, T>() : Vector256.Log(w.As<T, double>()).As<double, T>();
        return Vector256.ConditionalSelect(Vector256.Equals(w, Vector256<T>.One), u, log * u / (w - Vector256<T>.One));
    }

    private static Vector512<T> Log1p<T>(Vector512<T> u) where T : IFloatingPointIeee754<T>
    {
        var w = Vector512<T>.One + u;
        var log = typeof(T) == typeof(float) ? Vector512.Log(w.As<T, float>()).As<float, T>() : Vector512.Log(w.As<T, double>()).As<double, T>();
        return Vector512.ConditionalSelect(Vector512.Equals(w, Vector512<T>.One), u, log * u / (w - Vector512<T>.One));
    }

    // not T.LogP1: .NET computes it as log(u + 1), which loses u's digits exactly where this is needed
    private static T Log1p<T>(T u) where T : IFloatingPointIeee754<T>
    {
        var w = T.One + u;
        return w == T.One ? u : T.Log(w) * u / (w - T.One);
    }

    private static float Log1p(float u)
    {
        float w = 1f + u;
        return w == 1f ? u : MathF.Log(w) * u / (w - 1f);
    }
}
