using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;

namespace ModelGen.Gpu;

/// <summary>Host side of the ILGPU engine for what several ops share (GEMM, fill, add, optimizer updates): checks sizes
/// (an out-of-range index must never reach a kernel), picks the cached launcher and launches. An op's own launchers
/// live in its <c>Ops/&lt;Op&gt;.cs</c> and use <see cref="Dev"/> and <see cref="Same"/>.</summary>
internal static class GpuOps
{
    internal static IlgpuDevice Dev(Tensor t) => (IlgpuDevice)t.Device;

    internal static void Same(Tensor a, Tensor b, string what)
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
        Gemm(Dev(c), a.GpuView, transA, b.GpuView, transB, c.GpuView, m, n, k, accumulate, bias?.GpuView ?? c.GpuView.SubView(0, 1), bias is not null, false, activation);
    }

    /// <summary>C (+)= act(op(A)·op(B) + bias) on views of device memory (a convolution's per-image blocks), row-major and
    /// dense: op(A) is m×k, op(B) k×n, C m×n. The bias is per column (Linear) or, with <paramref name="biasPerRow"/>, per
    /// row (a convolution's output channels).</summary>
    public static void Gemm(IlgpuDevice device, ArrayView<float> a, bool transA, ArrayView<float> b, bool transB, ArrayView<float> c,
        int m, int n, int k, bool accumulate, ArrayView<float> bias, bool hasBias, bool biasPerRow, int activation)
    {
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length || (hasBias && bias.Length < (biasPerRow ? m : n)))
            throw new ShapeMismatchException($"GEMM {m}×{k}·{k}×{n} does not fit views of {a.Length}, {b.Length}, {c.Length} elements (bias {bias.Length}).");
        KernelStats.Record("gemm");
        int tile = device.GemmTile;
        var args = new GemmArgs
        {
            Tile = tile,
            M = m, N = n, K = k, Lda = transA ? m : k, Ldb = transB ? k : n, Ldc = n,
            TransA = transA ? 1 : 0, TransB = transB ? 1 : 0, Accumulate = accumulate ? 1 : 0,
        };
        var config = new KernelConfig(new Index2D((n + tile - 1) / tile, (m + tile - 1) / tile), new Index2D(tile, tile));
        switch (activation)
        {
            case 1: Launch<GpuRelu>(device, config, a, b, c, args, new GpuBiasEpilogue<GpuRelu>(bias, hasBias, biasPerRow)); break;
            case 2: Launch<GpuTanh>(device, config, a, b, c, args, new GpuBiasEpilogue<GpuTanh>(bias, hasBias, biasPerRow)); break;
            case 3: Launch<GpuSigmoid>(device, config, a, b, c, args, new GpuBiasEpilogue<GpuSigmoid>(bias, hasBias, biasPerRow)); break;
            default: Launch<GpuIdentity>(device, config, a, b, c, args, new GpuBiasEpilogue<GpuIdentity>(bias, hasBias, biasPerRow)); break;
        }

        static void Launch<TAct>(IlgpuDevice d, KernelConfig config, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs args, GpuBiasEpilogue<TAct> epilogue)
            where TAct : struct, IGpuActivation
        {
            if (!d.TiledGemm)
            {
                var simple = d.Launcher("gemm-per-element:" + typeof(TAct).Name, static acc =>
                    acc.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, GpuBiasEpilogue<TAct>>(GpuKernels.GemmPerElement));
                simple(new Index2D(args.N, args.M), a, b, c, args, epilogue);
                return;
            }
            var kernel = d.Launcher("gemm:" + typeof(TAct).Name, static acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, GpuBiasEpilogue<TAct>>(GpuKernels.Gemm));
            kernel(config, a, b, c, args, epilogue);
        }
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

    private const int SumChunk = 4096;

    /// <summary>Σ x² (gradient clipping's norm): partial sums of 4096 elements on the device, added in double on the host.</summary>
    public static double SumOfSquares(Tensor t)
    {
        var d = Dev(t);
        int chunks = (t.Count + SumChunk - 1) / SumChunk;
        var partial = d.Scratch("sum-of-squares", chunks);
        var kernel = d.Launcher("sum-of-squares", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(GpuKernels.SumOfSquares));
        kernel(chunks, t.GpuView, partial, t.Count, SumChunk);
        var host = System.Buffers.ArrayPool<float>.Shared.Rent(chunks);
        try
        {
            var span = host.AsSpan(0, chunks);
            partial.SubView(0, chunks).CopyToCPU(span);
            double sum = 0;
            foreach (var v in span) sum += v;
            return sum;
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(host);
        }
    }

    /// <summary>x *= factor.</summary>
    public static void Scale(Tensor t, float factor)
    {
        KernelStats.Record("scale");
        var kernel = Dev(t).Launcher("scale", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(GpuKernels.Scale));
        kernel(t.Count, t.GpuView, factor);
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
