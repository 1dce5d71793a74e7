using System.ComponentModel;
using System.Numerics;
using System.Runtime.InteropServices;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Thrown when a tensor's shape does not fit the layer it is fed to (names the layer and both shapes).</summary>
public sealed class ShapeMismatchException(string message) : ArgumentException(message);

/// <summary>
/// The tensor-level routines generated code calls that belong to no single op: fill, scale, MatMul, gradient plumbing,
/// the launcher of emitted element-wise kernels and the run-time shape guards. Each op's own routines (dispatch, CPU
/// loops, ILGPU form) are in its <c>Ops/&lt;Op&gt;.cs</c>. Engine-specific work happens below this line.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe partial class Ops
{
    /// <summary>Sets every element to <paramref name="value"/> (converted to the tensor's dtype as <see cref="Tensor.To(DType)"/>
    /// converts; any dtype on the CPU, Float32 on the ILGPU engine).</summary>
    public static void Fill(Tensor t, double value)
    {
        if (!t.Device.IsCpu) { GpuOps.Fill(t, (float)value); return; }
        switch (t.DType)
        {
            case DType.Float64: t.AsSpan<double>().Fill(value); break;
            case DType.Float32: t.AsSpan<float>().Fill((float)value); break;
            default:
                t.CopyFrom<double>(Enumerable.Repeat(value, t.Count).ToArray());
                break;
        }
    }

    /// <summary>Throws a <see cref="NotSupportedException"/> naming <paramref name="op"/> unless the tensor is Float32 or Float64.</summary>
    internal static void RequireComputeDType(Tensor t, string op)
    {
        if (t.DType is not (DType.Float32 or DType.Float64))
            throw new NotSupportedException(
                $"{op} computes in Float32 or Float64, but a tensor of shape {t.Shape} holds {t.DType}: convert it first with To(DType.Float32).");
    }

    /// <summary>Σ x² in double (gradient norms).</summary>
    public static double SumOfSquares(Tensor t)
    {
        double s = 0;
        RequireComputeDType(t, nameof(SumOfSquares));
        if (!t.Device.IsCpu) return GpuOps.SumOfSquares(t);
        if (t.DType == DType.Float64)
            foreach (var v in t.AsSpan<double>()) s += v * v;
        else
            foreach (var v in t.AsSpan<float>()) s += (double)v * v;
        return s;
    }

    /// <summary>x *= factor.</summary>
    public static void Scale(Tensor t, double factor)
    {
        RequireComputeDType(t, nameof(Scale));
        if (!t.Device.IsCpu) { GpuOps.Scale(t, (float)factor); return; }
        if (t.DType == DType.Float64) System.Numerics.Tensors.TensorPrimitives.Multiply(t.AsSpan<double>(), factor, t.AsSpan<double>());
        else System.Numerics.Tensors.TensorPrimitives.Multiply(t.AsSpan<float>(), (float)factor, t.AsSpan<float>());
    }

    /// <summary>Runs an emitted element-wise kernel body over n elements on all engine threads.</summary>
    public static void Elementwise<TBody>(string name, int n, ref TBody body) where TBody : struct, IRangeBody
    {
        KernelStats.Record(name);
        if (n < 32_768) body.Execute(0, n);
        else CpuParallel.For(n, 16_384, ref body);
    }

    /// <summary>The elements of a tensor as a reference (for emitted kernels: no unsafe code in user projects).</summary>
    public static ref T Ref<T>(Tensor t) where T : unmanaged => ref MemoryMarshal.GetReference(t.AsSpan<T>());

    /// <summary>C (+)= op(A)·op(B) for 2-D tensors, on the tensors' device (float32 or float64 on the CPU engine).</summary>
    public static void MatMul(Tensor a, bool transA, Tensor b, bool transB, Tensor c, bool accumulate = false)
    {
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2 || c.Shape.Rank != 2) throw new ShapeMismatchException($"MatMul needs 2-D tensors, got {a.Shape}, {b.Shape}, {c.Shape}.");
        int m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb || c.Shape[0] != m || c.Shape[1] != n)
            throw new ShapeMismatchException($"MatMul: op(A) is [{m}, {k}], op(B) is [{kb}, {n}], C is {c.Shape}.");
        RequireComputeDType(a, nameof(MatMul));
        RequireComputeDType(b, nameof(MatMul));
        RequireComputeDType(c, nameof(MatMul));
        if (!c.Device.IsCpu) { GpuOps.Gemm(a, transA, b, transB, c, m, n, k, accumulate, null, 0); return; }
        if (c.DType == DType.Float64)
            CpuGemm.Run(a.Ptr<double>(), a.Shape[1], transA, b.Ptr<double>(), b.Shape[1], transB, c.Ptr<double>(), n, m, n, k, accumulate, default(NoEpilogue<double>));
        else
            CpuGemm.Run(a.Ptr<float>(), a.Shape[1], transA, b.Ptr<float>(), b.Shape[1], transB, c.Ptr<float>(), n, m, n, k, accumulate, default(NoEpilogue<float>));
    }

    /// <summary>Waits for the device's queued kernels (a no-op on the CPU engine, which runs synchronously).</summary>
    public static void Synchronize(Device device) => (device as IlgpuDevice)?.Synchronize();

    /// <summary>dst (+)= src.</summary>
    public static void AddInto<T>(Tensor dst, Tensor src, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dst.Device.IsCpu) { GpuOps.AddInto(dst, src, accumulate); return; }
        CpuKernels.AddInto(dst.Ptr<T>(), src.Ptr<T>(), dst.Count, accumulate);
    }
    /// <summary>Accumulates an input's gradient into <see cref="Tensor.Grad"/> (allocated on first use), as PyTorch does for leaves.</summary>
    public static Tensor InputGrad(Tensor input)
    {
        input.EnsureGrad();
        return input.Grad!;
    }

    /// <summary>The gradient a generated backward writes for a [Parameter] tensor: null when it is frozen;
    /// <paramref name="accumulate"/> is false when it was cleared since the last backward (the first write overwrites).</summary>
    public static Tensor? ParameterGrad(Parameter parameter, out bool accumulate)
    {
        if (!parameter.RequiresGrad)
        {
            accumulate = false;
            return null;
        }
        return parameter.GradForWrite(out accumulate);
    }

    public static ref T RefOrNull<T>(Tensor? t) where T : unmanaged
    {
        if (t is null) return ref System.Runtime.CompilerServices.Unsafe.NullRef<T>();
        return ref MemoryMarshal.GetReference(t.AsSpan<T>());
    }

    /// <summary>Seeds the backward of a one-element output with 1 (PyTorch's loss.backward()).</summary>
    public static void SeedScalar<T>(Tensor output, Tensor grad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.Count != 1)
            throw new InvalidOperationException(
                $"Backward() without a loss needs a one-element output, but the output has shape {output.Shape}: call CrossEntropy/Mse first, or Backward(gradOutput).");
        Fill(grad, 1);
    }

    /// <summary>A view of a tensor that comes from outside the plan, re-made only when the source tensor changes.</summary>
    public static Tensor CachedView(Tensor source, Shape shape, ref Tensor? cachedSource, ref Tensor? cachedView)
    {
        if (!ReferenceEquals(source, cachedSource) || cachedView is null)
        {
            cachedView = source.View(shape);
            cachedSource = source;
        }
        return cachedView;
    }

    // ---------------- run-time shape guards ----------------

    public static Shape SameShape(Shape a, Shape b, string op)
    {
        if (!a.Equals(b)) throw new ShapeMismatchException($"'{op}' needs equal shapes but got {a} and {b}.");
        return a;
    }

    /// <summary>Flatten: [B, d1, d2, ...] → [B, d1·d2·...].</summary>
    public static Shape FlattenShape(Shape x)
    {
        if (x.Rank == 0) throw new ShapeMismatchException("Flatten needs a batch dimension but got a scalar.");
        return new Shape(x[0], x[0] == 0 ? 0 : x.Count / x[0]);
    }

    public static Shape FoldShapes<TBlock>(IReadOnlyList<TBlock> blocks, Shape input, Func<TBlock, Shape, Shape> apply)
    {
        var shape = input;
        foreach (var b in blocks) shape = apply(b, shape);
        return shape;
    }

    /// <summary>Checks that x's last dimension is the layer's input size.</summary>
    public static void CheckFeatures(Tensor x, int expected, string layer, string layerDescription)
    {
        if (x.Shape.Rank == 0 || x.Shape.Last != expected)
            throw new ShapeMismatchException(
                $"{layer} ({layerDescription}) expects input [*, {expected}] but got {x.Shape}.");
    }

    public static void CheckRank(Tensor x, int minRank, string input)
    {
        if (x.Shape.Rank < minRank)
            throw new ShapeMismatchException($"Input '{input}' needs at least {minRank} dimensions (batch first) but got {x.Shape}.");
    }

    public static void CheckSameShape(Shape a, Shape b, string what)
    {
        if (!a.Equals(b)) throw new ShapeMismatchException($"{what}: shapes {a} and {b} differ.");
    }

    public static void CheckDType(Tensor x, DType expected, string input)
    {
        if (x.DType != expected) throw new ArgumentException($"Input '{input}' is {x.DType} but the model is {expected}.");
    }

    /// <summary>Checks at bind time that one layer's output size is the next one's input size.</summary>
    public static void CheckChain(int produced, string producer, int expected, string consumer)
    {
        if (produced != expected)
            throw new ShapeMismatchException($"{producer} produces {produced} features but {consumer} expects {expected}.");
    }
}
