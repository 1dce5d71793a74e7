using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>LayerNorm's runtime routines: shape rule, CPU forward and backward (reductions in double); its ILGPU form goes here too (generator rule: src/Generators/Ops/LayerNorm.cs).</summary>
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
        RequireCpu(x, "LayerNorm");
        int rows = x.Shape.Rows, n = layer.Dim;
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
}
