using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Mse (mean squared error) and its backward: shape rule, dispatch, CPU loops and ILGPU form (generator rule: src/Generators/Ops/Reductions.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Mse ----------------

    public static Shape MseShape(Shape prediction, Shape target)
    {
        if (!prediction.Equals(target)) throw new ShapeMismatchException($"Mse needs the prediction's shape for the target: prediction {prediction}, target {target}.");
        return Shape.Scalar;
    }

    public static void Mse<T>(Tensor a, Tensor b, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!a.Device.IsCpu) { MseGpu(a, b, y); return; }
        MseCpu(a.Ptr<T>(), b.Ptr<T>(), a.Count, y.Ptr<T>());
    }
    public static void MseBackward<T>(Tensor a, Tensor b, Tensor dy, Tensor? da, bool accumulateA, Tensor? db, bool accumulateB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!a.Device.IsCpu) { MseBackwardGpu(a, b, dy, da, accumulateA, db, accumulateB); return; }
        MseBackwardCpu(a.Ptr<T>(), b.Ptr<T>(), dy.Ptr<T>(), da is null ? null : da.Ptr<T>(), accumulateA,
            db is null ? null : db.Ptr<T>(), accumulateB, a.Count);
    }

    // ---------------- CPU ----------------

    /// <summary>out[0] = mean((a − b)²).</summary>
    private static void MseCpu<T>(T* a, T* b, int n, T* result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("mse");
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateTruncating(a[i] - b[i]);
            sum += d * d;
        }
        result[0] = T.CreateTruncating(sum / n);
    }

    /// <summary>da (+)= 2(a − b)/n · dy[0]; db (+)= −2(a − b)/n · dy[0]. Either destination may be null.</summary>
    private static void MseBackwardCpu<T>(T* a, T* b, T* dy, T* da, bool accumulateA, T* db, bool accumulateB, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("mse-backward");
        T scale = dy[0] * T.CreateTruncating(2.0 / n);
        for (int i = 0; i < n; i++)
        {
            var g = (a[i] - b[i]) * scale;
            if (da != null) da[i] = accumulateA ? da[i] + g : g;
            if (db != null) db[i] = accumulateB ? db[i] - g : -g;
        }
    }

    // ---------------- ILGPU ----------------

    private static void MseGpu(Tensor a, Tensor b, Tensor y)
    {
        GpuOps.Same(a, b, "Mse");
        KernelStats.Record("mse");
        var kernel = GpuOps.Dev(a).Launcher("mse", static acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(MseKernel));
        kernel(1, a.GpuView, b.GpuView, y.GpuView, a.Count);
    }

    private static void MseBackwardGpu(Tensor a, Tensor b, Tensor dy, Tensor? da, bool accumulateA, Tensor? db, bool accumulateB)
    {
        GpuOps.Same(a, b, "Mse backward");
        if (da is not null) GpuOps.Same(a, da, "Mse backward");
        if (db is not null) GpuOps.Same(a, db, "Mse backward");
        KernelStats.Record("mse-backward");
        int flags = (da is null ? 0 : 1) | (accumulateA ? 2 : 0) | (db is null ? 0 : 4) | (accumulateB ? 8 : 0);
        var kernel = GpuOps.Dev(a).Launcher("mse-backward", static acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>(MseBackwardKernel));
        kernel(a.Count, a.GpuView, b.GpuView, dy.GpuView, (da ?? a).GpuView, (db ?? a).GpuView, 2f / a.Count, flags);
    }

    [Gpu.GpuKernel]
    internal static void MseKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int n)
    {
        double s = 0;
        for (int k = 0; k < n; k++)
        {
            double d = a[k] - b[k];
            s += d * d;
        }
        y[0] = (float)(s / n);
    }

    [Gpu.GpuKernel]
    internal static void MseBackwardKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> dy, ArrayView<float> da, ArrayView<float> db,
        float twoOverN, int flags)
    {
        float g = (a[i] - b[i]) * dy[0] * twoOverN;
        if ((flags & 1) != 0) da[i] = (flags & 2) != 0 ? da[i] + g : g;
        if ((flags & 4) != 0) db[i] = (flags & 8) != 0 ? db[i] - g : -g;
    }
}
