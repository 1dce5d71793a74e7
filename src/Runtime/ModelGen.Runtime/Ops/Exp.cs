using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

public abstract partial class Module
{
    /// <summary>eˣ, element-wise (<c>torch.exp</c>).</summary>
    protected static Tensor Exp(Tensor x) => throw Dsl.OutsideForward(nameof(Exp));
}

/// <summary>Exp's math for the generator's fused element-wise kernels (rule: src/Generators/Ops/Exp.cs), once per
/// form under one name: scalar, Vector256 and Vector512 for the CPU engine (T = float or double), float for ILGPU.</summary>
public static partial class Ops
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Exp<T>(T x) where T : IFloatingPointIeee754<T> => T.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ExpGrad<T>(T x, T g) where T : IFloatingPointIeee754<T> => g * T.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : IFloatingPointIeee754<T> => VMath.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ExpGrad<T>(Vector256<T> x, Vector256<T> g) where T : IFloatingPointIeee754<T>
        => g * VMath.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x) where T : IFloatingPointIeee754<T> => VMath.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ExpGrad<T>(Vector512<T> x, Vector512<T> g) where T : IFloatingPointIeee754<T>
        => g * VMath.Exp(x);

    /// <summary>ILGPU form.</summary>
    public static float Exp(float x) => MathF.Exp(x);

    /// <summary>ILGPU form.</summary>
    public static float ExpGrad(float x, float g) => g * MathF.Exp(x);
}
