using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>x for x &gt; 0, negativeSlope·x otherwise (<c>F.leaky_relu</c>; PyTorch's default slope is 0.01).</summary>
    protected static Tensor LeakyRelu(Tensor x, double negativeSlope) => throw Dsl.OutsideForward(nameof(LeakyRelu));
}

/// <summary>LeakyRelu's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/LeakyRelu.cs):
/// scalar, Vector256 and Vector512 for the CPU engine, float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T LeakyRelu<T>(T x, T slope) where T : IFloatingPointIeee754<T> => x > T.Zero ? x : slope * x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T LeakyReluGrad<T>(T x, T g, T slope) where T : IFloatingPointIeee754<T> => x > T.Zero ? g : slope * g;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LeakyRelu<T>(Vector256<T> x, T slope) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, x * slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LeakyReluGrad<T>(Vector256<T> x, Vector256<T> g, T slope) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), g, g * slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LeakyRelu<T>(Vector512<T> x, T slope) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LeakyReluGrad<T>(Vector512<T> x, Vector512<T> g, T slope) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), g, g * slope);

    /// <summary>ILGPU form.</summary>
    public static float LeakyRelu(float x, float slope) => x > 0f ? x : slope * x;

    /// <summary>ILGPU form.</summary>
    public static float LeakyReluGrad(float x, float g, float slope) => x > 0f ? g : slope * g;
}
