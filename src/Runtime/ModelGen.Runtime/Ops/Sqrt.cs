using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>√x, element-wise (<c>torch.sqrt</c>): NaN for x &lt; 0.</summary>
    protected static Tensor Sqrt(Tensor x) => throw Dsl.OutsideForward(nameof(Sqrt));
}

/// <summary>Sqrt's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Sqrt.cs), once per
/// form under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sqrt<T>(T x) where T : IFloatingPointIeee754<T> => T.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SqrtGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => g / (T.Sqrt(x) + T.Sqrt(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sqrt<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => Vector256.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> SqrtGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => g / (Vector256.Sqrt(x) + Vector256.Sqrt(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sqrt<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => Vector512.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SqrtGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => g / (Vector512.Sqrt(x) + Vector512.Sqrt(x));

    /// <summary>ILGPU form.</summary>
    public static float Sqrt(float x) => MathF.Sqrt(x);

    /// <summary>ILGPU form.</summary>
    public static float SqrtGrad(float x, float g) => g / (2f * MathF.Sqrt(x));
}
