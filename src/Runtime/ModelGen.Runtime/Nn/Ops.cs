using System.ComponentModel;
using System.Numerics;
using System.Runtime.InteropServices;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Thrown when a tensor's shape does not fit the layer it is fed to (names the layer and both shapes).</summary>
public sealed class ShapeMismatchException(string message) : ArgumentException(message);

/// <summary>
/// The tensor-level routines generated code calls: GEMMs with fused epilogues, row-wise ops, reductions and the
/// launcher of emitted element-wise kernels. Engine-specific work happens below this line.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe partial class Ops
{
    public static void Fill(Tensor t, double value)
    {
        if (!t.Device.IsCpu) { GpuOps.Fill(t, (float)value); return; }
        if (t.DType == DType.Float64) t.AsSpan<double>().Fill(value);
        else t.AsSpan<float>().Fill((float)value);
    }

    /// <summary>Σ x² in double (gradient norms).</summary>
    public static double SumOfSquares(Tensor t)
    {
        double s = 0;
        if (!t.Device.IsCpu)
        {
            foreach (var v in t.ToArray()) s += (double)v * v;
            return s;
        }
        if (t.DType == DType.Float64)
            foreach (var v in t.AsSpan<double>()) s += v * v;
        else
            foreach (var v in t.AsSpan<float>()) s += (double)v * v;
        return s;
    }

    /// <summary>x *= factor.</summary>
    public static void Scale(Tensor t, double factor)
    {
        if (!t.Device.IsCpu)
        {
            var host = t.ToArray();
            for (int i = 0; i < host.Length; i++) host[i] = (float)(host[i] * factor);
            t.CopyFrom<float>(host);
            return;
        }
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
        if (!c.Device.IsCpu) { GpuOps.Gemm(a, transA, b, transB, c, m, n, k, accumulate, null, 0); return; }
        if (c.DType == DType.Float64)
            CpuGemm.Run(a.Ptr<double>(), a.Shape[1], transA, b.Ptr<double>(), b.Shape[1], transB, c.Ptr<double>(), n, m, n, k, accumulate, default(NoEpilogue<double>));
        else
            CpuGemm.Run(a.Ptr<float>(), a.Shape[1], transA, b.Ptr<float>(), b.Shape[1], transB, c.Ptr<float>(), n, m, n, k, accumulate, default(NoEpilogue<float>));
    }

    /// <summary>Waits for the device's queued kernels (a no-op on the CPU engine, which runs synchronously).</summary>
    public static void Synchronize(Device device) => (device as IlgpuDevice)?.Synchronize();

    // ---------------- Linear ----------------

    /// <summary>y = act(x·Wᵀ + b): one GEMM (NT) with bias and activation in its epilogue.</summary>
    public static void LinearForward<T, TAct>(Linear layer, Tensor x, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        if (!x.Device.IsCpu) { GpuOps.LinearForward(layer, x, y, GpuOps.ActivationCode(typeof(TAct))); return; }
        int m = x.Count / layer.InFeatures, n = layer.OutFeatures, k = layer.InFeatures;
        var bias = layer.Bias is { } b ? b.Value.Ptr<T>() : null;
        CpuGemm.Run(x.Ptr<T>(), k, false, layer.Weight.Value.Ptr<T>(), k, true, y.Ptr<T>(), n, m, n, k, false,
            new BiasActivation<T, TAct>(bias));
    }

    /// <summary>Backward of y = act(x·Wᵀ + b). dz = act'(y) ⊙ dy is formed in place in dy, fused with the bias
    /// gradient's column sum; then dW += dzᵀ·x (GEMM TN) and dx (+)= dz·W (GEMM NN), each skipped when not needed.</summary>
    public static void LinearBackward<T, TAct>(Linear layer, Tensor x, Tensor y, Tensor dy, Tensor? dx, bool accumulateDx)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        if (!x.Device.IsCpu) { GpuOps.LinearBackward(layer, x, y, dy, dx, accumulateDx, GpuOps.ActivationCode(typeof(TAct))); return; }
        int m = x.Count / layer.InFeatures, n = layer.OutFeatures, k = layer.InFeatures;
        bool accumulateDb = true, accumulateDw;
        var bias = layer.Bias is { RequiresGrad: true } b ? b.GradForWrite(out accumulateDb).Ptr<T>() : null;
        T* dz = dy.Ptr<T>();
        if (bias != null || typeof(TAct) != typeof(Identity<T>))
            CpuKernels.ActivationBackward<T, TAct>(dz, y.Ptr<T>(), dz, bias, m, n, accumulateDb);
        if (layer.Weight.RequiresGrad)
            CpuGemm.Run(dz, n, true, x.Ptr<T>(), k, false, layer.Weight.GradForWrite(out accumulateDw).Ptr<T>(), k, n, k, m, accumulateDw, default(NoEpilogue<T>));
        if (dx is not null)
            CpuGemm.Run(dz, n, false, layer.Weight.Value.Ptr<T>(), k, false, dx.Ptr<T>(), k, m, k, n, accumulateDx, default(NoEpilogue<T>));
    }

    // ---------------- row-wise and reductions ----------------
    public static void Softmax<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { GpuOps.Softmax(x, y, log: false); return; }
        CpuKernels.Softmax(x.Ptr<T>(), y.Ptr<T>(), x.Shape.Rows, x.Shape.Last);
    }
    public static void SoftmaxBackward<T>(Tensor y, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!y.Device.IsCpu) { GpuOps.SoftmaxBackward(y, dy, dx, log: false, accumulate); return; }
        CpuKernels.SoftmaxBackward(y.Ptr<T>(), dy.Ptr<T>(), dx.Ptr<T>(), y.Shape.Rows, y.Shape.Last, accumulate);
    }
    public static void LogSoftmax<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { GpuOps.Softmax(x, y, log: true); return; }
        CpuKernels.LogSoftmax(x.Ptr<T>(), y.Ptr<T>(), x.Shape.Rows, x.Shape.Last);
    }
    public static void LogSoftmaxBackward<T>(Tensor y, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!y.Device.IsCpu) { GpuOps.SoftmaxBackward(y, dy, dx, log: true, accumulate); return; }
        CpuKernels.LogSoftmaxBackward(y.Ptr<T>(), dy.Ptr<T>(), dx.Ptr<T>(), y.Shape.Rows, y.Shape.Last, accumulate);
    }
    public static void Sum<T>(Tensor x, Tensor y, bool mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { GpuOps.Sum(x, y, mean); return; }
        CpuKernels.Sum(x.Ptr<T>(), x.Count, y.Ptr<T>(), mean ? 1.0 / x.Count : 1.0);
    }
    public static void SumBackward<T>(Tensor dy, Tensor dx, bool mean, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { GpuOps.SumBackward(dy, dx, mean, accumulate); return; }
        CpuKernels.SumBackward(dy.Ptr<T>(), dx.Ptr<T>(), dx.Count, mean ? 1.0 / dx.Count : 1.0, accumulate);
    }
    public static void Mse<T>(Tensor a, Tensor b, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!a.Device.IsCpu) { GpuOps.Mse(a, b, y); return; }
        CpuKernels.Mse(a.Ptr<T>(), b.Ptr<T>(), a.Count, y.Ptr<T>());
    }
    public static void MseBackward<T>(Tensor a, Tensor b, Tensor dy, Tensor? da, bool accumulateA, Tensor? db, bool accumulateB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!a.Device.IsCpu) { GpuOps.MseBackward(a, b, dy, da, accumulateA, db, accumulateB); return; }
        CpuKernels.MseBackward(a.Ptr<T>(), b.Ptr<T>(), dy.Ptr<T>(), da is null ? null : da.Ptr<T>(), accumulateA,
            db is null ? null : db.Ptr<T>(), accumulateB, a.Count);
    }
    public static void Dropout<T>(Dropout layer, Tensor x, Tensor mask, Tensor y, int seed, ulong step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { GpuOps.Dropout(x, mask, y, layer.P, Rng.Mix(DropoutKey(layer, seed) ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL))); return; }
        CpuKernels.Dropout(x.Ptr<T>(), mask.Ptr<T>(), y.Ptr<T>(), x.Count, layer.P, DropoutKey(layer, seed), step);
    }
    /// <summary>The dropout stream of a layer: from the model seed and a stable hash of the layer's name (string.GetHashCode
    /// is randomised per process, so it cannot be used: the same seed must give the same masks run after run).</summary>
    internal static ulong DropoutKey(Dropout layer, int seed)
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in layer.Name) h = (h ^ ch) * 1099511628211UL;
        return Rng.Mix((ulong)seed ^ h);
    }

    public static void DropoutBackward<T>(Tensor dy, Tensor mask, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { GpuOps.Multiply(dy, mask, dx, accumulate); return; }
        CpuKernels.MultiplyBackward(dy.Ptr<T>(), mask.Ptr<T>(), dx.Ptr<T>(), dx.Count, accumulate);
    }
    /// <summary>Fused softmax + cross-entropy over [rows, classes] logits; keeps the probabilities for the backward.</summary>
    public static double SoftmaxCrossEntropy<T>(Tensor logits, ReadOnlySpan<int> labels, Tensor probs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = logits.Shape.Rows;
        if (labels.Length != rows)
            throw new ShapeMismatchException($"CrossEntropy: logits {logits.Shape} have {rows} rows but {labels.Length} labels were given.");
        if (!logits.Device.IsCpu)
        {
            for (int r = 0; r < rows; r++)
                if ((uint)labels[r] >= (uint)logits.Shape.Last)
                    throw new ArgumentOutOfRangeException(nameof(labels), $"Label {labels[r]} at row {r} is not a class index in [0, {logits.Shape.Last}).");
            return GpuOps.SoftmaxCrossEntropy(logits, labels, probs);
        }
        fixed (int* l = labels) return CpuKernels.SoftmaxCrossEntropy(logits.Ptr<T>(), l, probs.Ptr<T>(), rows, logits.Shape.Last);
    }

    /// <summary>dlogits (+)= (probs − onehot) · dloss / rows.</summary>
    public static void SoftmaxCrossEntropyBackward<T>(Tensor probs, ReadOnlySpan<int> labels, Tensor dlogits, double dloss, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = probs.Shape.Rows;
        if (!probs.Device.IsCpu) { GpuOps.SoftmaxCrossEntropyBackward(probs, labels, dlogits, dloss, accumulate); return; }
        fixed (int* l = labels)
            CpuKernels.SoftmaxCrossEntropyBackward(probs.Ptr<T>(), l, dlogits.Ptr<T>(), rows, probs.Shape.Last, T.CreateTruncating(dloss / rows), accumulate);
    }

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

    public static ref T RefOrNull<T>(Tensor? t) where T : unmanaged
    {
        if (t is null) return ref System.Runtime.CompilerServices.Unsafe.NullRef<T>();
        return ref MemoryMarshal.GetReference(t.AsSpan<T>());
    }

    /// <summary>Dropout in eval mode: y = x and an all-ones mask (so the backward is the same code).</summary>
    public static void Identity<T>(Tensor x, Tensor mask, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { GpuOps.CopyWithOnes(x, mask, y); return; }
        KernelStats.Record("copy");
        x.AsSpan<T>().CopyTo(y.AsSpan<T>());
        mask.AsSpan<T>().Fill(T.One);
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

    public static void CheckInput(Tensor x, DType dtype, Device device, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.DType != dtype) throw new ArgumentException($"Input '{name}' holds {x.DType} but the model computes in {dtype}.", name);
        if (!ReferenceEquals(x.Device, device))
            throw new ArgumentException($"Input '{name}' is on {x.Device.Name} but the model is on {device.Name}: copy it with x.To(model.Device).", name);
    }

    /// <summary>The output shape of a Linear layer: [..., in] → [..., out], with a message naming the layer.</summary>
    public static Shape LinearShape(Shape x, Linear layer)
    {
        if (x.Rank == 0 || x.Last != layer.InFeatures)
            throw new ShapeMismatchException($"{layer.Name} ({layer}) expects input [*, {layer.InFeatures}] but got {x}.");
        return x.WithLast(layer.OutFeatures);
    }

    public static Shape SameShape(Shape a, Shape b, string op)
    {
        if (!a.Equals(b)) throw new ShapeMismatchException($"'{op}' needs equal shapes but got {a} and {b}.");
        return a;
    }

    public static Shape MseShape(Shape prediction, Shape target)
    {
        if (!prediction.Equals(target)) throw new ShapeMismatchException($"Mse needs the prediction's shape for the target: prediction {prediction}, target {target}.");
        return Shape.Scalar;
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
