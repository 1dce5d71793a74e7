using System.Numerics;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>LayerNorm's runtime routines: shape rule, CPU forward and backward (reductions in double); and their ILGPU form (generator rule: src/Generators/Ops/LayerNorm.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- LayerNorm ----------------

    public static Shape LayerNormShape(Shape x, LayerNorm layer)
    {
        if (x.Rank == 0 || x.Last != layer.Dim)
            throw new ShapeMismatchException($"{layer.Name} ({layer}) expects input [*, {layer.Dim}] but got {x}.");
        return x;
    }

    /// <summary>y = (x − mean)·rstd·w + b per row; keeps mean and rstd (per row) for the backward.</summary>
    public static void LayerNormForward<T>(LayerNorm layer, Tensor x, Tensor y, Tensor stats) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("layer-norm");
        int rows = x.Shape.Rows, n = layer.Dim;
        if (!x.Device.IsCpu) { LayerNormForwardGpu(layer, x, y, stats, rows, n); return; }
        var body = new LayerNormBody<T>
        {
            X = x.Ptr<T>(), Y = y.Ptr<T>(), Stats = stats.Ptr<T>(), W = layer.Weight.Value.Ptr<T>(), B = layer.Bias.Value.Ptr<T>(),
            N = n, Eps = layer.Eps,
        };
        if ((long)rows * n < 16_384) body.Execute(0, rows);
        else CpuParallel.For(rows, 8, ref body);
    }

    /// <summary>Rows of a LayerNorm forward: two passes (mean, then Σ(x − mean)², which keeps the variance accurate
    /// for inputs far from zero), Vector512 where available, mean and 1/σ kept per row for the backward.</summary>
    private struct LayerNormBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y, Stats, W, B;
        public int N;
        public double Eps;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int n = N, w = Vector512<T>.Count;
            bool vector = Vector512.IsHardwareAccelerated;
            for (int r = start; r < end; r++)
            {
                T* xr = X + (long)r * n, yr = Y + (long)r * n;
                int c = 0;
                T sum = T.Zero;
                if (vector)
                {
                    var acc = Vector512<T>.Zero;
                    for (; c + w <= n; c += w) acc += Vector512.Load(xr + c);
                    sum = Vector512.Sum(acc);
                }
                for (; c < n; c++) sum += xr[c];
                T mean = sum / T.CreateTruncating(n);
                T squares = T.Zero;
                c = 0;
                if (vector)
                {
                    var vMean = Vector512.Create(mean);
                    var acc = Vector512<T>.Zero;
                    for (; c + w <= n; c += w)
                    {
                        var d = Vector512.Load(xr + c) - vMean;
                        acc += d * d;
                    }
                    squares = Vector512.Sum(acc);
                }
                for (; c < n; c++) squares += (xr[c] - mean) * (xr[c] - mean);
                T rstd = T.CreateTruncating(1 / Math.Sqrt(double.CreateTruncating(squares) / n + Eps));
                c = 0;
                if (vector)
                {
                    var vMean = Vector512.Create(mean); var vRstd = Vector512.Create(rstd);
                    for (; c + w <= n; c += w)
                        ((Vector512.Load(xr + c) - vMean) * vRstd * Vector512.Load(W + c) + Vector512.Load(B + c)).Store(yr + c);
                }
                for (; c < n; c++) yr[c] = (xr[c] - mean) * rstd * W[c] + B[c];
                Stats[2 * r] = mean;
                Stats[2 * r + 1] = rstd;
            }
        }
    }

    /// <summary>
    /// LayerNorm backward (llm.c): with x̂ = (x − mean)·rstd and g = w ⊙ dy,
    ///   dx (+)= rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dw += Σ_rows dy ⊙ x̂,  db += Σ_rows dy.
    /// </summary>
    public static void LayerNormBackward<T>(LayerNorm layer, Tensor x, Tensor dy, Tensor stats, Tensor? dx, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("layer-norm-backward");
        int rows = x.Shape.Rows, n = layer.Dim;
        if (!x.Device.IsCpu) { LayerNormBackwardGpu(layer, x, dy, stats, dx, accumulate, rows, n); return; }
        T* xp = x.Ptr<T>(), g = dy.Ptr<T>(), s = stats.Ptr<T>(), w = layer.Weight.Value.Ptr<T>();
        T* dw = layer.Weight.RequiresGrad ? layer.Weight.Grad.Ptr<T>() : null;
        T* db = layer.Bias.RequiresGrad ? layer.Bias.Grad.Ptr<T>() : null;
        T* dxp = dx is null ? null : dx.Ptr<T>();
        for (int r = 0; r < rows; r++)
        {
            T* xr = xp + (long)r * n, gr = g + (long)r * n;
            T mean = s[2 * r], rstd = s[2 * r + 1];
            double sumG = 0, sumGx = 0;
            for (int c = 0; c < n; c++)
            {
                T xhat = (xr[c] - mean) * rstd;
                T wg = w[c] * gr[c];
                sumG += double.CreateTruncating(wg);
                sumGx += double.CreateTruncating(wg * xhat);
                if (dw != null) dw[c] += gr[c] * xhat;
                if (db != null) db[c] += gr[c];
            }
            if (dxp == null) continue;
            T meanG = T.CreateTruncating(sumG / n), meanGx = T.CreateTruncating(sumGx / n);
            T* dr = dxp + (long)r * n;
            for (int c = 0; c < n; c++)
            {
                T xhat = (xr[c] - mean) * rstd;
                T v = rstd * (w[c] * gr[c] - meanG - xhat * meanGx);
                dr[c] = accumulate ? dr[c] + v : v;
            }
        }
    }

    // ---------------- ILGPU ----------------

    private static void LayerNormForwardGpu(LayerNorm layer, Tensor x, Tensor y, Tensor stats, int rows, int n)
    {
        GpuOps.Same(x, y, layer.Name);
        if (stats.Count < 2 * rows) throw new ShapeMismatchException($"{layer.Name}: statistics {stats.Shape} do not hold {rows} rows.");
        var kernel = GpuOps.Dev(x).Launcher("layer-norm", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, double>(LayerNormKernel));
        kernel(rows, x.GpuView, y.GpuView, stats.GpuView, layer.Weight.Value.GpuView, layer.Bias.Value.GpuView, n, layer.Eps);
    }

    private static void LayerNormBackwardGpu(LayerNorm layer, Tensor x, Tensor dy, Tensor stats, Tensor? dx, bool accumulate, int rows, int n)
    {
        GpuOps.Same(x, dy, layer.Name + " backward");
        var d = GpuOps.Dev(x);
        if (layer.Weight.RequiresGrad || layer.Bias.RequiresGrad)
        {
            var parameters = d.Launcher("layer-norm-backward-parameters", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerNormParameterGradKernel));
            int flags = (layer.Weight.RequiresGrad ? 1 : 0) | (layer.Bias.RequiresGrad ? 2 : 0);
            parameters(n, x.GpuView, dy.GpuView, stats.GpuView, (layer.Weight.RequiresGrad ? layer.Weight.Grad : dy).GpuView,
                (layer.Bias.RequiresGrad ? layer.Bias.Grad : dy).GpuView, rows, n, flags);
        }
        if (dx is null) return;
        GpuOps.Same(x, dx, layer.Name + " backward");
        var input = d.Launcher("layer-norm-backward-input", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(LayerNormInputGradKernel));
        input(rows, x.GpuView, dy.GpuView, stats.GpuView, layer.Weight.Value.GpuView, dx.GpuView, n, accumulate ? 1 : 0);
    }

    /// <summary>One thread per row: mean, then Σ(x − mean)² (two passes, as the CPU form), rstd = 1/√(var + eps) in
    /// double; y = (x − mean)·rstd·w + b; stats[2r] = mean, stats[2r + 1] = rstd.</summary>
    [GpuKernel]
    internal static void LayerNormKernel(Index1D r, ArrayView<float> x, ArrayView<float> y, ArrayView<float> stats, ArrayView<float> w, ArrayView<float> b, int n, double eps)
    {
        int offset = r * n;
        float sum = 0f;
        for (int c = 0; c < n; c++) sum += x[offset + c];
        float mean = sum / n;
        float squares = 0f;
        for (int c = 0; c < n; c++)
        {
            float d = x[offset + c] - mean;
            squares += d * d;
        }
        float rstd = (float)(1.0 / Math.Sqrt((double)squares / n + eps));
        for (int c = 0; c < n; c++) y[offset + c] = (x[offset + c] - mean) * rstd * w[c] + b[c];
        stats[2 * r] = mean;
        stats[2 * r + 1] = rstd;
    }

    /// <summary>One thread per row: g = w ⊙ dy, dx (+)= rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)), the means in double.</summary>
    [GpuKernel]
    internal static void LayerNormInputGradKernel(Index1D r, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> stats, ArrayView<float> w, ArrayView<float> dx, int n, int accumulate)
    {
        int offset = r * n;
        float mean = stats[2 * r], rstd = stats[2 * r + 1];
        double sumG = 0, sumGx = 0;
        for (int c = 0; c < n; c++)
        {
            float xhat = (x[offset + c] - mean) * rstd;
            float wg = w[c] * dy[offset + c];
            sumG += wg;
            sumGx += wg * xhat;
        }
        float meanG = (float)(sumG / n), meanGx = (float)(sumGx / n);
        for (int c = 0; c < n; c++)
        {
            float xhat = (x[offset + c] - mean) * rstd;
            float v = rstd * (w[c] * dy[offset + c] - meanG - xhat * meanGx);
            dx[offset + c] = accumulate != 0 ? dx[offset + c] + v : v;
        }
    }

    /// <summary>One thread per column c, walking the rows in order: dw[c] += Σ_r dy·x̂ (flag 1), db[c] += Σ_r dy (flag 2).</summary>
    [GpuKernel]
    internal static void LayerNormParameterGradKernel(Index1D c, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> stats, ArrayView<float> dw, ArrayView<float> db, int rows, int n, int flags)
    {
        float sw = dw[c], sb = db[c];
        for (int r = 0; r < rows; r++)
        {
            float g = dy[r * n + c];
            sw += g * ((x[r * n + c] - stats[2 * r]) * stats[2 * r + 1]);
            sb += g;
        }
        if ((flags & 1) != 0) dw[c] = sw;
        if ((flags & 2) != 0) db[c] = sb;
    }
}
