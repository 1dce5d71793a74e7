using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;

namespace ModelGen.Gpu;

/// <summary>Host side of the ILGPU engine: checks sizes (an out-of-range index must never reach a kernel), picks the
/// cached launcher and launches. Mirrors the CPU routines of <see cref="Ops"/> one for one.</summary>
internal static class GpuOps
{
    private static IlgpuDevice Dev(Tensor t) => (IlgpuDevice)t.Device;

    private static void Same(Tensor a, Tensor b, string what)
    {
        if (a.Count != b.Count) throw new ShapeMismatchException($"{what}: {a.Shape} and {b.Shape} differ in size.");
        if (!ReferenceEquals(a.Device, b.Device)) throw new ArgumentException($"{what}: tensors on {a.Device.Name} and {b.Device.Name}.");
    }

    public static int ActivationCode(Type activation)
    {
        var definition = activation.IsGenericType ? activation.GetGenericTypeDefinition() : activation;
        if (definition == typeof(ReluActivation<>)) return 1;
        if (definition == typeof(TanhActivation<>)) return 2;
        if (definition == typeof(SigmoidActivation<>)) return 3;
        return 0;
    }

    public static void Gemm(Tensor a, bool transA, Tensor b, bool transB, Tensor c, int m, int n, int k, bool accumulate, Tensor? bias, int activation)
    {
        if ((long)m * k > a.Count || (long)k * n > b.Count || (long)m * n > c.Count)
            throw new ShapeMismatchException($"GEMM {m}×{k}·{k}×{n} does not fit tensors {a.Shape}, {b.Shape}, {c.Shape}.");
        KernelStats.Record("gemm");
        int tile = Dev(c).GemmTile;
        var args = new GemmArgs
        {
            Tile = tile,
            M = m, N = n, K = k, Lda = transA ? m : k, Ldb = transB ? k : n, Ldc = n,
            TransA = transA ? 1 : 0, TransB = transB ? 1 : 0, Accumulate = accumulate ? 1 : 0,
        };
        var biasView = bias?.GpuView ?? c.GpuView.SubView(0, 1);
        var config = new KernelConfig(new Index2D((n + tile - 1) / tile, (m + tile - 1) / tile), new Index2D(tile, tile));
        switch (activation)
        {
            case 1: Launch<GpuRelu>(Dev(c), config, a, b, c, args, biasView, bias is not null); break;
            case 2: Launch<GpuTanh>(Dev(c), config, a, b, c, args, biasView, bias is not null); break;
            case 3: Launch<GpuSigmoid>(Dev(c), config, a, b, c, args, biasView, bias is not null); break;
            default: Launch<GpuIdentity>(Dev(c), config, a, b, c, args, biasView, bias is not null); break;
        }

        static void Launch<TAct>(IlgpuDevice d, KernelConfig config, Tensor a, Tensor b, Tensor c, GemmArgs args, ArrayView<float> bias, bool hasBias)
            where TAct : struct, IGpuActivation
        {
            var kernel = d.Launcher("gemm:" + typeof(TAct).Name, static acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, GpuBiasEpilogue<TAct>>(GpuKernels.Gemm));
            kernel(config, a.GpuView, b.GpuView, c.GpuView, args, new GpuBiasEpilogue<TAct>(bias, hasBias));
        }
    }

    public static void LinearForward(Linear layer, Tensor x, Tensor y, int activation)
    {
        int m = x.Count / layer.InFeatures;
        Gemm(x, false, layer.Weight.Value, true, y, m, layer.OutFeatures, layer.InFeatures, false, layer.Bias?.Value, activation);
    }

    public static void LinearBackward(Linear layer, Tensor x, Tensor y, Tensor dy, Tensor? dx, bool accumulateDx, int activation)
    {
        int m = x.Count / layer.InFeatures, n = layer.OutFeatures, k = layer.InFeatures;
        var bias = layer.Bias is { RequiresGrad: true } b ? b.Grad : null;
        if (bias is not null || activation != 0)
        {
            KernelStats.Record(activation == 0 ? "bias-grad" : "activation-backward+bias-grad");
            var kernel = Dev(dy).Launcher("activation-backward", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(GpuKernels.ActivationBackward));
            kernel(n, dy.GpuView, y.GpuView, dy.GpuView, (bias ?? dy).GpuView, m, n, activation, bias is null ? 0 : 1);
        }
        if (layer.Weight.RequiresGrad) Gemm(dy, true, x, false, layer.Weight.Grad, n, k, m, true, null, 0);
        if (dx is not null) Gemm(dy, false, layer.Weight.Value, false, dx, m, k, n, accumulateDx, null, 0);
    }

    public static void Fill(Tensor t, float value)
    {
        var kernel = Dev(t).Launcher("fill", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(GpuKernels.Fill));
        kernel(t.Count, t.GpuView, value);
    }

    public static void AddInto(Tensor dst, Tensor src, bool accumulate)
    {
        if (ReferenceEquals(dst, src)) return;
        Same(dst, src, "AddInto");
        KernelStats.Record(accumulate ? "add" : "copy");
        var kernel = Dev(dst).Launcher("add-into", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(GpuKernels.AddInto));
        kernel(dst.Count, dst.GpuView, src.GpuView, accumulate ? 1 : 0);
    }

    public static void Softmax(Tensor x, Tensor y, bool log)
    {
        Same(x, y, "Softmax");
        KernelStats.Record(log ? "log-softmax" : "softmax");
        var kernel = Dev(x).Launcher("softmax", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(GpuKernels.Softmax));
        kernel(x.Shape.Rows, x.GpuView, y.GpuView, x.Shape.Last, log ? 1 : 0);
    }

    public static void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log, bool accumulate)
    {
        Same(y, dy, "Softmax backward");
        Same(y, dx, "Softmax backward");
        KernelStats.Record(log ? "log-softmax-backward" : "softmax-backward");
        var kernel = Dev(y).Launcher("softmax-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(GpuKernels.SoftmaxBackward));
        kernel(y.Shape.Rows, y.GpuView, dy.GpuView, dx.GpuView, y.Shape.Last, log ? 1 : 0, accumulate ? 1 : 0);
    }

    private static readonly Dictionary<IlgpuDevice, (MemoryBuffer1D<int, Stride1D.Dense> Labels, MemoryBuffer1D<float, Stride1D.Dense> Loss)> Scratch = new();

    private static (ArrayView<int> Labels, MemoryBuffer1D<float, Stride1D.Dense> Loss) Upload(IlgpuDevice d, ReadOnlySpan<int> labels)
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

    public static double SoftmaxCrossEntropy(Tensor logits, ReadOnlySpan<int> labels, Tensor probs)
    {
        int rows = logits.Shape.Rows, cols = logits.Shape.Last;
        KernelStats.Record("softmax-cross-entropy");
        var (labelView, loss) = Upload(Dev(logits), labels);
        var kernel = Dev(logits).Launcher("softmax-ce", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(GpuKernels.SoftmaxCrossEntropy));
        kernel(rows, logits.GpuView, labelView, probs.GpuView, loss.View.SubView(0, rows), cols);
        var host = new float[rows];
        loss.View.SubView(0, rows).CopyToCPU(host);
        double sum = 0;
        foreach (var v in host) sum += v;
        return sum / rows;
    }

    public static void SoftmaxCrossEntropyBackward(Tensor probs, ReadOnlySpan<int> labels, Tensor dlogits, double dloss, bool accumulate)
    {
        Same(probs, dlogits, "CrossEntropy backward");
        KernelStats.Record("softmax-cross-entropy-backward");
        var (labelView, _) = Upload(Dev(probs), labels);
        var kernel = Dev(probs).Launcher("softmax-ce-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float, int>(GpuKernels.SoftmaxCrossEntropyBackward));
        kernel(probs.Count, probs.GpuView, labelView, dlogits.GpuView, probs.Shape.Last, (float)(dloss / probs.Shape.Rows), accumulate ? 1 : 0);
    }

    public static void Sum(Tensor x, Tensor y, bool mean)
    {
        KernelStats.Record("sum");
        var kernel = Dev(x).Launcher("sum", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(GpuKernels.Sum));
        kernel(1, x.GpuView, y.GpuView, x.Count, mean ? 1f / x.Count : 1f);
    }

    public static void SumBackward(Tensor dy, Tensor dx, bool mean, bool accumulate)
    {
        KernelStats.Record("sum-backward");
        var kernel = Dev(dx).Launcher("sum-backward", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, int>(GpuKernels.SumBackward));
        kernel(dx.Count, dy.GpuView, dx.GpuView, mean ? 1f / dx.Count : 1f, accumulate ? 1 : 0);
    }

    public static void Mse(Tensor a, Tensor b, Tensor y)
    {
        Same(a, b, "Mse");
        KernelStats.Record("mse");
        var kernel = Dev(a).Launcher("mse", static acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(GpuKernels.Mse));
        kernel(1, a.GpuView, b.GpuView, y.GpuView, a.Count);
    }

    public static void MseBackward(Tensor a, Tensor b, Tensor dy, Tensor? da, bool accumulateA, Tensor? db, bool accumulateB)
    {
        Same(a, b, "Mse backward");
        if (da is not null) Same(a, da, "Mse backward");
        if (db is not null) Same(a, db, "Mse backward");
        KernelStats.Record("mse-backward");
        int flags = (da is null ? 0 : 1) | (accumulateA ? 2 : 0) | (db is null ? 0 : 4) | (accumulateB ? 8 : 0);
        var kernel = Dev(a).Launcher("mse-backward", static acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>(GpuKernels.MseBackward));
        kernel(a.Count, a.GpuView, b.GpuView, dy.GpuView, (da ?? a).GpuView, (db ?? a).GpuView, 2f / a.Count, flags);
    }

    public static void Dropout(Tensor x, Tensor mask, Tensor y, double p, ulong key)
    {
        Same(x, y, "Dropout");
        KernelStats.Record("dropout");
        var kernel = Dev(x).Launcher("dropout", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, ulong>(GpuKernels.Dropout));
        kernel(x.Count, x.GpuView, mask.GpuView, y.GpuView, (float)p, (float)(1.0 / (1.0 - p)), key);
    }

    public static void Multiply(Tensor dy, Tensor mask, Tensor dx, bool accumulate)
    {
        Same(dy, dx, "Dropout backward");
        KernelStats.Record("dropout-backward");
        var kernel = Dev(dx).Launcher("multiply", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(GpuKernels.Multiply));
        kernel(dx.Count, dy.GpuView, mask.GpuView, dx.GpuView, accumulate ? 1 : 0);
    }

    public static void CopyWithOnes(Tensor x, Tensor mask, Tensor y)
    {
        Same(x, y, "Dropout");
        KernelStats.Record("copy");
        var kernel = Dev(x).Launcher("copy-ones", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GpuKernels.CopyWithOnes));
        kernel(x.Count, x.GpuView, mask.GpuView, y.GpuView);
    }

    public static void Sgd(Parameter p, Tensor? buffer, float lr, float wd, float mu, float damp, bool first, bool nesterov)
    {
        KernelStats.Record("optimizer-update");
        var kernel = Dev(p.Value).Launcher("sgd", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, int, int, int>(GpuKernels.Sgd));
        kernel(p.Value.Count, p.Value.GpuView, p.Grad.GpuView, (buffer ?? p.Grad).GpuView, lr, wd, mu, damp, first ? 1 : 0, nesterov ? 1 : 0, buffer is null ? 0 : 1);
    }

    public static void Adam(Parameter p, Tensor m, Tensor v, Tensor? vMax, AdamArgs args)
    {
        KernelStats.Record("optimizer-update");
        var kernel = Dev(p.Value).Launcher("adam", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(GpuKernels.Adam));
        kernel(p.Value.Count, p.Value.GpuView, p.Grad.GpuView, m.GpuView, v.GpuView, (vMax ?? v).GpuView, args);
    }
}
