using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>What a GEMM does to each finished accumulator before storing it (bias, activation), given the element's row
/// and column in C (a vector covers columns col0 … col0 + width − 1 of one row). Passed as a struct type parameter, so
/// the JIT specialises the GEMM for it: no call per element, and unused indices cost nothing.</summary>
public interface IEpilogue<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    T Apply(T acc, int row, int col);
    Vector256<T> Apply(Vector256<T> acc, int row, int col0);
    Vector512<T> Apply(Vector512<T> acc, int row, int col0);
}

/// <summary>An element-wise activation in its three CPU forms, with its derivative written in terms of its output
/// (so the backward needs only the stored activation y, not the pre-activation).</summary>
public interface IActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    T Apply(T x);
    Vector256<T> Apply(Vector256<T> x);
    Vector512<T> Apply(Vector512<T> x);
    T Grad(T y, T g);
    Vector256<T> Grad(Vector256<T> y, Vector256<T> g);
    Vector512<T> Grad(Vector512<T> y, Vector512<T> g);
}

public readonly struct Identity<T> : IActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T x) => x;
    public Vector256<T> Apply(Vector256<T> x) => x;
    public Vector512<T> Apply(Vector512<T> x) => x;
    public T Grad(T y, T g) => g;
    public Vector256<T> Grad(Vector256<T> y, Vector256<T> g) => g;
    public Vector512<T> Grad(Vector512<T> y, Vector512<T> g) => g;
}

public readonly struct ReluActivation<T> : IActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T x) => VMath.Relu(x);
    public Vector256<T> Apply(Vector256<T> x) => VMath.Relu(x);
    public Vector512<T> Apply(Vector512<T> x) => VMath.Relu(x);
    public T Grad(T y, T g) => VMath.ReluGrad(y, g);
    public Vector256<T> Grad(Vector256<T> y, Vector256<T> g) => VMath.ReluGrad(y, g);
    public Vector512<T> Grad(Vector512<T> y, Vector512<T> g) => VMath.ReluGrad(y, g);
}

public readonly struct TanhActivation<T> : IActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T x) => VMath.Tanh(x);
    public Vector256<T> Apply(Vector256<T> x) => VMath.Tanh(x);
    public Vector512<T> Apply(Vector512<T> x) => VMath.Tanh(x);
    public T Grad(T y, T g) => VMath.TanhGrad(y, g);
    public Vector256<T> Grad(Vector256<T> y, Vector256<T> g) => VMath.TanhGrad(y, g);
    public Vector512<T> Grad(Vector512<T> y, Vector512<T> g) => VMath.TanhGrad(y, g);
}

public readonly struct SigmoidActivation<T> : IActivation<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T x) => VMath.Sigmoid(x);
    public Vector256<T> Apply(Vector256<T> x) => VMath.Sigmoid(x);
    public Vector512<T> Apply(Vector512<T> x) => VMath.Sigmoid(x);
    public T Grad(T y, T g) => VMath.SigmoidGrad(y, g);
    public Vector256<T> Grad(Vector256<T> y, Vector256<T> g) => VMath.SigmoidGrad(y, g);
    public Vector512<T> Grad(Vector512<T> y, Vector512<T> g) => VMath.SigmoidGrad(y, g);
}

/// <summary>No bias, no activation: C = A·B.</summary>
public readonly struct NoEpilogue<T> : IEpilogue<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T acc, int row, int col) => acc;
    public Vector256<T> Apply(Vector256<T> acc, int row, int col0) => acc;
    public Vector512<T> Apply(Vector512<T> acc, int row, int col0) => acc;
}

/// <summary>C = act(A·B + bias[col]): Linear's forward with its activation fused.</summary>
public readonly unsafe struct BiasActivation<T, TAct> : IEpilogue<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TAct : struct, IActivation<T>
{
    private readonly T* _bias;

    public BiasActivation(T* bias) => _bias = bias;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Apply(T acc, int row, int col) => default(TAct).Apply(_bias == null ? acc : acc + _bias[col]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Apply(Vector256<T> acc, int row, int col0)
        => default(TAct).Apply(_bias == null ? acc : acc + Vector256.Load(_bias + col0));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Apply(Vector512<T> acc, int row, int col0)
        => default(TAct).Apply(_bias == null ? acc : acc + Vector512.Load(_bias + col0));
}

/// <summary>C = act(A·B + bias[row]): a convolution's forward (one output channel per row of C, its pixels along the
/// columns) with its bias and activation fused.</summary>
public readonly unsafe struct RowBiasActivation<T, TAct> : IEpilogue<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TAct : struct, IActivation<T>
{
    private readonly T* _bias;

    public RowBiasActivation(T* bias) => _bias = bias;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Apply(T acc, int row, int col) => default(TAct).Apply(_bias == null ? acc : acc + _bias[row]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Apply(Vector256<T> acc, int row, int col0)
        => default(TAct).Apply(_bias == null ? acc : acc + Vector256.Create(_bias[row]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Apply(Vector512<T> acc, int row, int col0)
        => default(TAct).Apply(_bias == null ? acc : acc + Vector512.Create(_bias[row]));
}
