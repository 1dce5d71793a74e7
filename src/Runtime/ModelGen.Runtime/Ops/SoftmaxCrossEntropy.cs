using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>The fused softmax + cross-entropy loss and its backward: dispatch, CPU loops and ILGPU form (no rule file: the CrossEntropy head is emitted by src/Generators/Emit/ModelEmitter.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- SoftmaxCrossEntropy ----------------

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
            return SoftmaxCrossEntropyGpu(logits, labels, probs);
        }
        fixed (int* l = labels) return SoftmaxCrossEntropyCpu(logits.Ptr<T>(), l, probs.Ptr<T>(), rows, logits.Shape.Last);
    }

    /// <summary>dlogits (+)= (probs − onehot) · dloss / rows.</summary>
    public static void SoftmaxCrossEntropyBackward<T>(Tensor probs, ReadOnlySpan<int> labels, Tensor dlogits, double dloss, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = probs.Shape.Rows;
        if (!probs.Device.IsCpu) { SoftmaxCrossEntropyBackwardGpu(probs, labels, dlogits, dloss, accumulate); return; }
        fixed (int* l = labels)
            SoftmaxCrossEntropyBackwardCpu(probs.Ptr<T>(), l, dlogits.Ptr<T>(), rows, probs.Shape.Last, T.CreateTruncating(dloss / rows), accumulate);
    }

    // ---------------- CPU ----------------

    /// <summary>Fused softmax + cross-entropy: returns mean_r(−log softmax(logits_r)[label_r]) and keeps the
    /// probabilities in <paramref name="probs"/> for the backward. Labels are validated (0 ≤ label &lt; cols).</summary>
    private static double SoftmaxCrossEntropyCpu<T>(T* logits, int* labels, T* probs, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("softmax-cross-entropy");
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)cols)
                throw new ArgumentOutOfRangeException(nameof(labels), $"Label {label} at row {r} is not a class index in [0, {cols}).");
            T* xr = logits + (long)r * cols, pr = probs + (long)r * cols;
            T max = RowMax(xr, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                var e = T.Exp(xr[c] - max);
                pr[c] = e;
                sum += double.CreateTruncating(e);
            }
            T inv = T.CreateTruncating(1.0 / sum);
            for (int c = 0; c < cols; c++) pr[c] *= inv;
            loss += Math.Log(sum) - double.CreateTruncating(xr[label] - max);
        }
        return loss / rows;
    }

    /// <summary>dlogits (+)= (probs − onehot(label)) · scale, where scale = dloss / rows.</summary>
    private static void SoftmaxCrossEntropyBackwardCpu<T>(T* probs, int* labels, T* dlogits, int rows, int cols, T scale, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("softmax-cross-entropy-backward");
        for (int r = 0; r < rows; r++)
        {
            T* pr = probs + (long)r * cols, dr = dlogits + (long)r * cols;
            int label = labels[r];
            for (int c = 0; c < cols; c++)
            {
                var v = (c == label ? pr[c] - T.One : pr[c]) * scale;
                dr[c] = accumulate ? dr[c] + v : v;
            }
        }
    }

    // ---------------- ILGPU ----------------

    /// <summary>Per-device label and per-row loss buffers of the ILGPU form, grown on demand and kept (a nested class, as
    /// ConvScratch is, so that Ops itself keeps no static state).</summary>
    private static class CrossEntropyScratch
    {
        private static readonly Dictionary<IlgpuDevice, (MemoryBuffer1D<int, Stride1D.Dense> Labels, MemoryBuffer1D<float, Stride1D.Dense> Loss)> Scratch = new();

        public static (ArrayView<int> Labels, MemoryBuffer1D<float, Stride1D.Dense> Loss) Upload(IlgpuDevice d, ReadOnlySpan<int> labels)
        {
            lock (Scratch)
            {
                if (!Scratch.TryGetValue(d, out var s) || s.Labels.Length < labels.Length)
                {
                    if (s.Labels is not null) { s.Labels.Dispose(); s.Loss.Dispose(); }
                    s = (d.Accelerator.Allocate1D<int>(Math.Max(1, labels.Length)), d.Accelerator.Allocate1D<float>(Math.Max(1, labels.Length)));
                    Scratch[d] = s;
                }
                var view = s.Labels.View.SubView(0, labels.Length);
                view.CopyFromCPU(labels.ToArray());
                return (view, s.Loss);
            }
        }
    }

    private static double SoftmaxCrossEntropyGpu(Tensor logits, ReadOnlySpan<int> labels, Tensor probs)
    {
        int rows = logits.Shape.Rows, cols = logits.Shape.Last;
        KernelStats.Record("softmax-cross-entropy");
        var (labelView, loss) = CrossEntropyScratch.Upload(GpuOps.Dev(logits), labels);
        var kernel = GpuOps.Dev(logits).Launcher("softmax-ce", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(SoftmaxCrossEntropyKernel));
        kernel(rows, logits.GpuView, labelView, probs.GpuView, loss.View.SubView(0, rows), cols);
        var host = new float[rows];
        loss.View.SubView(0, rows).CopyToCPU(host);
        double sum = 0;
        foreach (var v in host) sum += v;
        return sum / rows;
    }

    private static void SoftmaxCrossEntropyBackwardGpu(Tensor probs, ReadOnlySpan<int> labels, Tensor dlogits, double dloss, bool accumulate)
    {
        GpuOps.Same(probs, dlogits, "CrossEntropy backward");
        KernelStats.Record("softmax-cross-entropy-backward");
        var (labelView, _) = CrossEntropyScratch.Upload(GpuOps.Dev(probs), labels);
        var kernel = GpuOps.Dev(probs).Launcher("softmax-ce-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float, int>(SoftmaxCrossEntropyBackwardKernel));
        kernel(probs.Count, probs.GpuView, labelView, dlogits.GpuView, probs.Shape.Last, (float)(dloss / probs.Shape.Rows), accumulate ? 1 : 0);
    }

    /// <summary>One thread per row: probabilities and −log p[label].</summary>
    [Gpu.GpuKernel]
    internal static void SoftmaxCrossEntropyKernel(Index1D r, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> probs, ArrayView<float> rowLoss, int cols)
    {
        int o = r * cols;
        float max = float.NegativeInfinity;
        for (int c = 0; c < cols; c++) max = MathF.Max(max, logits[o + c]);
        float sum = 0f;
        for (int c = 0; c < cols; c++) sum += MathF.Exp(logits[o + c] - max);
        for (int c = 0; c < cols; c++) probs[o + c] = MathF.Exp(logits[o + c] - max) / sum;
        rowLoss[r] = MathF.Log(sum) - (logits[o + labels[r]] - max);
    }

    [Gpu.GpuKernel]
    internal static void SoftmaxCrossEntropyBackwardKernel(Index1D i, ArrayView<float> probs, ArrayView<int> labels, ArrayView<float> dlogits, int cols, float scale, int accumulate)
    {
        int r = i / cols, c = i - r * cols;
        float v = (c == labels[r] ? probs[i] - 1f : probs[i]) * scale;
        dlogits[i] = accumulate != 0 ? dlogits[i] + v : v;
    }
}
