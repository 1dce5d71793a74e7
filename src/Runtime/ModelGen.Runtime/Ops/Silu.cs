using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>silu(x) = x·σ(x), also called swish (PyTorch's <c>F.silu</c>).</summary>
    protected static Tensor Silu(Tensor x) => throw Dsl.OutsideForward(nameof(Silu));
}

/// <summary>SiLU's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Silu.cs), once per form
/// under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.
/// silu(x) = x·σ(x); d/dx = σ(x)(1 + x(1 − σ(x))).</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Silu<T>(T x) where T : IFloatingPointIeee754<T> => x * VMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SiluGrad<T>(T x, T g) where T : IFloatingPointIeee754<T>
    {
        var s = VMath.Sigmoid(x);
        return g * s * (T.One + x * (T.One - s));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Silu<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => x * VMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> SiluGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
    {
        var s = VMath.Sigmoid(x);
        return g * s * (Vector256<T>.One + x * (Vector256<T>.One - s));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Silu<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => x * VMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SiluGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
    {
        var s = VMath.Sigmoid(x);
        return g * s * (Vector512<T>.One + x * (Vector512<T>.One - s));
    }

    /// <summary>ILGPU form.</summary>
    public static float Silu(float x) => x / (1f + MathF.Exp(-x));

    /// <summary>ILGPU form.</summary>
    public static float SiluGrad(float x, float g)
    {
        float s = 1f / (1f + MathF.Exp(-x));
        return g * s * (1f + x * (1f - s));
    }
}
