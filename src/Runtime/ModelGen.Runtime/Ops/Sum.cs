using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Sum and Mean of all elements (Sum with <c>mean</c>) and their backward: dispatch, CPU loops and ILGPU form (generator rule: src/Generators/Ops/Reductions.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Sum / Mean ----------------

    public static void Sum<T>(Tensor x, Tensor y, bool mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { SumGpu(x, y, mean); return; }
        SumCpu(x.Ptr<T>(), x.Count, y.Ptr<T>(), mean ? 1.0 / x.Count : 1.0);
    }
    public static void SumBackward<T>(Tensor dy, Tensor dx, bool mean, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { SumBackwardGpu(dy, dx, mean, accumulate); return; }
        SumBackwardCpu(dy.Ptr<T>(), dx.Ptr<T>(), dx.Count, mean ? 1.0 / dx.Count : 1.0, accumulate);
    }

    // ---------------- CPU ----------------

    /// <summary>out[0] = scale · Σ x (scale 1 for Sum, 1/n for Mean).</summary>
    private static void SumCpu<T>(T* x, int n, T* result, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("sum");
        double sum = 0;
        for (int i = 0; i < n; i++) sum += double.CreateTruncating(x[i]);
        result[0] = T.CreateTruncating(sum * scale);
    }

    /// <summary>dx (+)= dy[0] · scale, broadcast.</summary>
    private static void SumBackwardCpu<T>(T* dy, T* dx, int n, double scale, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("sum-backward");
        T g = dy[0] * T.CreateTruncating(scale);
        for (int i = 0; i < n; i++) dx[i] = accumulate ? dx[i] + g : g;
    }

    // ---------------- ILGPU ----------------

    private static void SumGpu(Tensor x, Tensor y, bool mean)
    {
        KernelStats.Record("sum");
        var kernel = GpuOps.Dev(x).Launcher("sum", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(SumKernel));
        kernel(1, x.GpuView, y.GpuView, x.Count, mean ? 1f / x.Count : 1f);
    }

    private static void SumBackwardGpu(Tensor dy, Tensor dx, bool mean, bool accumulate)
    {
        KernelStats.Record("sum-backward");
        var kernel = GpuOps.Dev(dx).Launcher("sum-backward", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, int>(SumBackwardKernel));
        kernel(dx.Count, dy.GpuView, dx.GpuView, mean ? 1f / dx.Count : 1f, accumulate ? 1 : 0);
    }

    /// <summary>A single thread sums (scale 1 or 1/n); the reductions here are small (losses).</summary>
    [Gpu.GpuKernel]
    internal static void SumKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int n, float scale)
    {
        double s = 0;
        for (int k = 0; k < n; k++) s += x[k];
        y[0] = (float)(s * scale);
    }

    [Gpu.GpuKernel]
    internal static void SumBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, float scale, int accumulate)
        => dx[i] = accumulate != 0 ? dx[i] + dy[0] * scale : dy[0] * scale;
}
