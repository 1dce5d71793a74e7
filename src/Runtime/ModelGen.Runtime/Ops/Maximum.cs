using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>The element-wise maximum of two tensors of one shape (<c>torch.maximum</c>); at ties the gradient is
    /// split in half, as in PyTorch.</summary>
    protected static Tensor Maximum(Tensor a, Tensor b) => throw Dsl.OutsideForward(nameof(Maximum));
}

/// <summary>Maximum's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Maximum.cs): scalar,
/// Vector256 and Vector512 for the CPU engine, float for ILGPU. <c>MaximumGrad(p, q, g)</c> is the gradient of the first
/// argument p: g where p > q, g/2 where p = q, else 0.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Maximum<T>(T a, T b) where T : IFloatingPointIeee754<T> => T.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MaximumGrad<T>(T p, T q, T g) where T : IFloatingPointIeee754<T>
        => p > q ? g : p == q ? g / (T.One + T.One) : T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Maximum<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MaximumGrad<T>(Vector256<T> p, Vector256<T> q, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(p, q), g,
            Vector256.ConditionalSelect(Vector256.Equals(p, q), g / Vector256.Create(T.One + T.One), Vector256<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Maximum<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MaximumGrad<T>(Vector512<T> p, Vector512<T> q, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(p, q), g,
            Vector512.ConditionalSelect(Vector512.Equals(p, q), g / Vector512.Create(T.One + T.One), Vector512<T>.Zero));

    /// <summary>ILGPU form.</summary>
    public static float Maximum(float a, float b) => MathF.Max(a, b);

    /// <summary>ILGPU form.</summary>
    public static float MaximumGrad(float p, float q, float g) => p > q ? g : p == q ? 0.5f * g : 0f;
}
