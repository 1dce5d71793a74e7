using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Softmax and LogSoftmax over the last dimension: dispatch, CPU loops and ILGPU form (generator rule: src/Generators/Ops/Softmax.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Softmax / LogSoftmax ----------------

    public static void Softmax<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { SoftmaxGpu(x, y, log: false); return; }
        SoftmaxCpu(x.Ptr<T>(), y.Ptr<T>(), x.Shape.Rows, x.Shape.Last);
    }
    public static void SoftmaxBackward<T>(Tensor y, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!y.Device.IsCpu) { SoftmaxBackwardGpu(y, dy, dx, log: false, accumulate); return; }
        SoftmaxBackwardCpu(y.Ptr<T>(), dy.Ptr<T>(), dx.Ptr<T>(), y.Shape.Rows, y.Shape.Last, accumulate);
    }
    public static void LogSoftmax<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { SoftmaxGpu(x, y, log: true); return; }
        LogSoftmaxCpu(x.Ptr<T>(), y.Ptr<T>(), x.Shape.Rows, x.Shape.Last);
    }
    public static void LogSoftmaxBackward<T>(Tensor y, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!y.Device.IsCpu) { SoftmaxBackwardGpu(y, dy, dx, log: true, accumulate); return; }
        LogSoftmaxBackwardCpu(y.Ptr<T>(), dy.Ptr<T>(), dx.Ptr<T>(), y.Shape.Rows, y.Shape.Last, accumulate);
    }

    // ---------------- CPU ----------------

    /// <summary>y = softmax(x) over the last dimension.</summary>
    private static void SoftmaxCpu<T>(T* x, T* y, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("softmax");
        for (int r = 0; r < rows; r++)
        {
            T* xr = x + (long)r * cols, yr = y + (long)r * cols;
            T max = RowMax(xr, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++)
            {
                var e = T.Exp(xr[c] - max);
                yr[c] = e;
                sum += double.CreateTruncating(e);
            }
            T inv = T.CreateTruncating(1.0 / sum);
            for (int c = 0; c < cols; c++) yr[c] *= inv;
        }
    }

    /// <summary>y = log_softmax(x) over the last dimension.</summary>
    private static void LogSoftmaxCpu<T>(T* x, T* y, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("log-softmax");
        for (int r = 0; r < rows; r++)
        {
            T* xr = x + (long)r * cols, yr = y + (long)r * cols;
            T max = RowMax(xr, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += double.CreateTruncating(T.Exp(xr[c] - max));
            T logSum = max + T.CreateTruncating(Math.Log(sum));
            for (int c = 0; c < cols; c++) yr[c] = xr[c] - logSum;
        }
    }

    /// <summary>dx (+)= y ⊙ (dy − Σ_c dy⊙y), with y = softmax(x).</summary>
    private static void SoftmaxBackwardCpu<T>(T* y, T* dy, T* dx, int rows, int cols, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("softmax-backward");
        for (int r = 0; r < rows; r++)
        {
            T* yr = y + (long)r * cols, gr = dy + (long)r * cols, dr = dx + (long)r * cols;
            double dot = 0;
            for (int c = 0; c < cols; c++) dot += double.CreateTruncating(gr[c] * yr[c]);
            T d = T.CreateTruncating(dot);
            for (int c = 0; c < cols; c++)
            {
                var v = yr[c] * (gr[c] - d);
                dr[c] = accumulate ? dr[c] + v : v;
            }
        }
    }

    /// <summary>dx (+)= dy − softmax(x) · Σ_c dy, with y = log_softmax(x) (so softmax = exp(y)).</summary>
    private static void LogSoftmaxBackwardCpu<T>(T* y, T* dy, T* dx, int rows, int cols, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("log-softmax-backward");
        for (int r = 0; r < rows; r++)
        {
            T* yr = y + (long)r * cols, gr = dy + (long)r * cols, dr = dx + (long)r * cols;
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += double.CreateTruncating(gr[c]);
            T s = T.CreateTruncating(sum);
            for (int c = 0; c < cols; c++)
            {
                var v = gr[c] - T.Exp(yr[c]) * s;
                dr[c] = accumulate ? dr[c] + v : v;
            }
        }
    }

    /// <summary>The largest element of a row (also used by SoftmaxCrossEntropy).</summary>
    private static T RowMax<T>(T* x, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = T.NegativeInfinity;
        for (int c = 0; c < n; c++)
            if (x[c] > max) max = x[c];
        return max;
    }

    // ---------------- ILGPU ----------------

    private static void SoftmaxGpu(Tensor x, Tensor y, bool log)
    {
        GpuOps.Same(x, y, "Softmax");
        KernelStats.Record(log ? "log-softmax" : "softmax");
        var kernel = GpuOps.Dev(x).Launcher("softmax", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernel));
        kernel(x.Shape.Rows, x.GpuView, y.GpuView, x.Shape.Last, log ? 1 : 0);
    }

    private static void SoftmaxBackwardGpu(Tensor y, Tensor dy, Tensor dx, bool log, bool accumulate)
    {
        GpuOps.Same(y, dy, "Softmax backward");
        GpuOps.Same(y, dx, "Softmax backward");
        KernelStats.Record(log ? "log-softmax-backward" : "softmax-backward");
        var kernel = GpuOps.Dev(y).Launcher("softmax-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxBackwardKernel));
        kernel(y.Shape.Rows, y.GpuView, dy.GpuView, dx.GpuView, y.Shape.Last, log ? 1 : 0, accumulate ? 1 : 0);
    }

    /// <summary>One thread per row: softmax (log = 0) or log-softmax (log = 1).</summary>
    [Gpu.GpuKernel]
    internal static void SoftmaxKernel(Index1D r, ArrayView<float> x, ArrayView<float> y, int cols, int log)
    {
        int o = r * cols;
        float max = float.NegativeInfinity;
        for (int c = 0; c < cols; c++) max = MathF.Max(max, x[o + c]);
        float sum = 0f;
        for (int c = 0; c < cols; c++) sum += MathF.Exp(x[o + c] - max);
        float logSum = max + MathF.Log(sum);
        for (int c = 0; c < cols; c++) y[o + c] = log != 0 ? x[o + c] - logSum : MathF.Exp(x[o + c] - logSum);
    }

    [Gpu.GpuKernel]
    internal static void SoftmaxBackwardKernel(Index1D r, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int cols, int log, int accumulate)
    {
        int o = r * cols;
        float s = 0f;
        for (int c = 0; c < cols; c++) s += log != 0 ? dy[o + c] : dy[o + c] * y[o + c];
        for (int c = 0; c < cols; c++)
        {
            float v = log != 0 ? dy[o + c] - MathF.Exp(y[o + c]) * s : y[o + c] * (dy[o + c] - s);
            dx[o + c] = accumulate != 0 ? dx[o + c] + v : v;
        }
    }
}
