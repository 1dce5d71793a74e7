using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>The element-wise minimum of two tensors of one shape (<c>torch.minimum</c>); at ties the gradient is
    /// split in half, as in PyTorch.</summary>
    protected static Tensor Minimum(Tensor a, Tensor b) => throw Dsl.OutsideForward(nameof(Minimum));
}

/// <summary>Minimum's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Minimum.cs): scalar,
/// Vector256 and Vector512 for the CPU engine, float for ILGPU. <c>MinimumGrad(p, q, g)</c> is the gradient of the first
/// argument p: g where p &lt; q, g/2 where p = q, else 0.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Minimum<T>(T a, T b) where T : IFloatingPointIeee754<T> => T.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MinimumGrad<T>(T p, T q, T g) where T : IFloatingPointIeee754<T>
        => p < q ? g : p == q ? g / (T.One + T.One) : T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Minimum<T>(Vector256<T> a, Vector256<T> b) where T : IFloatingPointIeee754<T> => Vector256.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MinimumGrad<T>(Vector256<T> p, Vector256<T> q, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.LessThan(p, q), g,
            Vector256.ConditionalSelect(Vector256.Equals(p, q), g / Vector256.Create(T.One + T.One), Vector256<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Minimum<T>(Vector512<T> a, Vector512<T> b) where T : IFloatingPointIeee754<T> => Vector512.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MinimumGrad<T>(Vector512<T> p, Vector512<T> q, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.LessThan(p, q), g,
            Vector512.ConditionalSelect(Vector512.Equals(p, q), g / Vector512.Create(T.One + T.One), Vector512<T>.Zero));

    /// <summary>ILGPU form.</summary>
    public static float Minimum(float a, float b) => MathF.Min(a, b);

    /// <summary>ILGPU form.</summary>
    public static float MinimumGrad(float p, float q, float g) => p < q ? g : p == q ? 0.5f * g : 0f;
}
