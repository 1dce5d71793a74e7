using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>|x|, element-wise (<c>torch.abs</c>); its gradient at 0 is 0, as PyTorch's.</summary>
    protected static Tensor Abs(Tensor x) => throw Dsl.OutsideForward(nameof(Abs));
}

/// <summary>Abs's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Abs.cs), once per
/// form under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Abs<T>(T x) where T : IFloatingPointIeee754<T> => T.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T AbsGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => x > T.Zero ? g : x < T.Zero ? -g : T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Abs<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => Vector256.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> AbsGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), g, Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -g, Vector256<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Abs<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => Vector512.Abs(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> AbsGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), g, Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -g, Vector512<T>.Zero));

    /// <summary>ILGPU form.</summary>
    public static float Abs(float x) => MathF.Abs(x);

    /// <summary>ILGPU form.</summary>
    public static float AbsGrad(float x, float g) => x > 0f ? g : x < 0f ? -g : 0f;
}
