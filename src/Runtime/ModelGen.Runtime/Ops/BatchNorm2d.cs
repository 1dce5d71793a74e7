using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>BatchNorm2d's runtime routines: shape rule, CPU forward and backward (running statistics), and ILGPU form (generator rule: src/Generators/Ops/BatchNorm2d.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- BatchNorm2d ----------------

    public static Shape BatchNorm2dShape(Shape x, BatchNorm2d layer)
    {
        RequireNchw(x, layer.Name, layer.ToString(), layer.NumFeatures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (x[1] != layer.NumFeatures)
            throw new ShapeMismatchException($"{layer.Name} ({layer}) expects {layer.NumFeatures} channels but got {x} ({x[1]} channels).");
        return x;
    }

    /// <summary>What BatchNorm2d keeps for its backward: per channel the mean and 1/σ it normalised with, then a flag
    /// (1: batch statistics, training; 0: running statistics, evaluation).</summary>
    public static Shape BatchNorm2dStatsShape(BatchNorm2d layer) => new(2 * layer.NumFeatures + 1);

    /// <summary>
    /// Training: per channel, mean and biased variance over (batch, height, width); y = (x − mean)/√(var + eps)·w + b;
    /// running_mean and running_var move towards the batch's mean and unbiased variance by the momentum, and
    /// num_batches_tracked counts the batch. Evaluation: the same with the running statistics. Keeps (mean, 1/σ) per
    /// channel and the mode for the backward.
    /// </summary>
    public static void BatchNorm2dForward<T>(BatchNorm2d layer, Tensor x, Tensor y, Tensor stats, bool training) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { BatchNorm2dForwardGpu(layer, x, y, stats, training); return; }
        KernelStats.Record("batch-norm");
        int batch = x.Shape[0], channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        RequireVarianceSamples(layer, x.Shape, training);
        var body = new BatchNormBody<T>
        {
            X = x.Ptr<T>(), Y = y.Ptr<T>(), Stats = stats.Ptr<T>(), W = layer.Weight.Value.Ptr<T>(), B = layer.Bias.Value.Ptr<T>(),
            RunningMean = layer.RunningMean.Value.Ptr<T>(), RunningVar = layer.RunningVar.Value.Ptr<T>(),
            Batch = batch, Channels = channels, Plane = plane, Eps = layer.Eps, Momentum = layer.Momentum, Training = training,
        };
        if ((long)batch * channels * plane < 32_768) body.Execute(0, channels);
        else CpuParallel.For(channels, 1, ref body);
        stats.Ptr<T>()[2 * channels] = training ? T.One : T.Zero;
        if (training) layer.NumBatchesTracked.Value.Ptr<T>()[0] += T.One;
    }

    private static void RequireVarianceSamples(BatchNorm2d layer, Shape x, bool training)
    {
        if (training && (long)x[0] * x[2] * x[3] < 2)
            throw new ArgumentException($"{layer.Name} ({layer}): training needs more than one value per channel to estimate a variance, but got input {x} (use Eval() for single values).");
    }

    /// <summary>
    /// Backward of BatchNorm2d per channel (N = batch·height·width values, x̂ = (x − mean)/σ):
    ///   dw += Σ dy·x̂,  db += Σ dy;
    ///   training (batch statistics): dx (+)= w/σ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N);
    ///   evaluation (running statistics are constants): dx (+)= w/σ · dy.
    /// </summary>
    public static void BatchNorm2dBackward<T>(BatchNorm2d layer, Tensor x, Tensor dy, Tensor stats, Tensor? dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { BatchNorm2dBackwardGpu(layer, x, dy, stats, dx, accumulate); return; }
        KernelStats.Record("batch-norm-backward");
        int batch = x.Shape[0], channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        var body = new BatchNormBody<T>
        {
            X = x.Ptr<T>(), Y = dy.Ptr<T>(), Stats = stats.Ptr<T>(), W = layer.Weight.Value.Ptr<T>(),
            Dw = layer.Weight.RequiresGrad ? layer.Weight.Grad.Ptr<T>() : null, Db = layer.Bias.RequiresGrad ? layer.Bias.Grad.Ptr<T>() : null,
            Dx = dx is null ? null : dx.Ptr<T>(), Accumulate = accumulate,
            Batch = batch, Channels = channels, Plane = plane, Training = stats.Ptr<T>()[2 * channels] != T.Zero, Backward = true,
        };
        if ((long)batch * channels * plane < 32_768) body.Execute(0, channels);
        else CpuParallel.For(channels, 1, ref body);
    }

    private struct BatchNormBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y, Stats, W, B, RunningMean, RunningVar, Dw, Db, Dx;
        public int Batch, Channels, Plane;
        public double Eps, Momentum;
        public bool Training, Backward, Accumulate;

        private readonly T* At(T* p, int b, int c) => p + ((long)b * Channels + c) * Plane;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            long n = (long)Batch * Plane;
            for (int c = start; c < end; c++)
            {
                if (Backward)
                {
                    BackwardChannel(c, n);
                    continue;
                }
                double mean, rstd;
                if (Training)
                {
                    // two passes (mean, then the squared deviations), vector lanes per plane summed in double
                    double sum = 0;
                    for (int b = 0; b < Batch; b++) sum += ChannelMath<T>.Sum(At(X, b, c), Plane);
                    mean = sum / n;
                    double sq = 0;
                    T tm = T.CreateTruncating(mean);
                    for (int b = 0; b < Batch; b++) sq += ChannelMath<T>.SquaredDeviation(At(X, b, c), Plane, tm);
                    rstd = 1 / Math.Sqrt(sq / n + Eps);
                    RunningMean[c] = T.CreateTruncating((1 - Momentum) * double.CreateTruncating(RunningMean[c]) + Momentum * mean);
                    RunningVar[c] = T.CreateTruncating((1 - Momentum) * double.CreateTruncating(RunningVar[c]) + Momentum * sq / (n - 1));
                }
                else
                {
                    mean = double.CreateTruncating(RunningMean[c]);
                    rstd = 1 / Math.Sqrt(double.CreateTruncating(RunningVar[c]) + Eps);
                }
                Stats[2 * c] = T.CreateTruncating(mean);
                Stats[2 * c + 1] = T.CreateTruncating(rstd);
                // y = x·scale + shift with scale = w/σ, shift = b − mean·w/σ
                double scale = double.CreateTruncating(W[c]) * rstd;
                T tScale = T.CreateTruncating(scale), tShift = T.CreateTruncating(double.CreateTruncating(B[c]) - mean * scale);
                for (int b = 0; b < Batch; b++) ChannelMath<T>.Affine(At(X, b, c), null, At(Y, b, c), Plane, tScale, T.Zero, tShift, false);
            }
        }

        private readonly void BackwardChannel(int c, long n)
        {
            T mean = Stats[2 * c];
            double rstd = double.CreateTruncating(Stats[2 * c + 1]);
            double sumDy = 0, sumDyCentered = 0;
            for (int b = 0; b < Batch; b++)
            {
                var (s, d) = ChannelMath<T>.SumAndCenteredDot(At(Y, b, c), At(X, b, c), Plane, mean);
                sumDy += s;
                sumDyCentered += d;
            }
            double sumDyXhat = sumDyCentered * rstd;
            if (Dw != null) Dw[c] += T.CreateTruncating(sumDyXhat);
            if (Db != null) Db[c] += T.CreateTruncating(sumDy);
            if (Dx == null) return;
            double k = double.CreateTruncating(W[c]) * rstd;
            // dx = k·(dy − Σdy/N − x̂·Σ(dy·x̂)/N) = k·dy + (α·x + β) with α = −k·rstd·Σ(dy·x̂)/N, β = −k·Σdy/N − mean·α
            double alpha = Training ? -k * rstd * sumDyXhat / n : 0;
            double beta = Training ? -k * sumDy / n - double.CreateTruncating(mean) * alpha : 0;
            T tk = T.CreateTruncating(k), ta = T.CreateTruncating(alpha), tb = T.CreateTruncating(beta);
            for (int b = 0; b < Batch; b++) ChannelMath<T>.Affine(At(X, b, c), At(Y, b, c), At(Dx, b, c), Plane, ta, tk, tb, Accumulate);
        }
    }

    // ---------------- ILGPU ----------------

    /// <summary>Checks the tensors of a BatchNorm2d call for its kernels (which index without bounds checks).</summary>
    private static void GpuBatchNormCheck(BatchNorm2d layer, Tensor x, Tensor other, Tensor stats, string what)
    {
        BatchNorm2dShape(x.Shape, layer);
        GpuOps.Same(x, other, what);
        if (stats.Count != 2 * layer.NumFeatures + 1) throw new ShapeMismatchException($"{what}: {layer.Name}'s statistics {stats.Shape} do not hold {2 * layer.NumFeatures + 1} values.");
        foreach (var p in (ReadOnlySpan<Parameter>)[layer.Weight, layer.Bias, layer.RunningMean, layer.RunningVar])
            if (p.Value.Count != layer.NumFeatures) throw new ShapeMismatchException($"{what}: {p.Name} {p.Value.Shape} does not hold {layer.NumFeatures} values.");
        foreach (var t in (ReadOnlySpan<Tensor>)[stats, layer.Weight.Value, layer.Bias.Value, layer.RunningMean.Value, layer.RunningVar.Value, layer.NumBatchesTracked.Value])
            if (!ReferenceEquals(t.Device, x.Device)) throw new ArgumentException($"{what}: tensors on {x.Device.Name} and {t.Device.Name}.");
    }

    private static void BatchNorm2dForwardGpu(BatchNorm2d layer, Tensor x, Tensor y, Tensor stats, bool training)
    {
        KernelStats.Record("batch-norm");
        GpuBatchNormCheck(layer, x, y, stats, "BatchNorm2d");
        RequireVarianceSamples(layer, x.Shape, training);
        var device = GpuOps.Dev(x);
        int batch = x.Shape[0], channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        var affine = device.Scratch("batch-norm-affine", 2L * channels);
        var statistics = device.Launcher("batch-norm-stats", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormStatsKernel));
        var args = new BatchNormArgs { Batch = batch, Channels = channels, Plane = plane, Eps = layer.Eps, Momentum = layer.Momentum, Training = training ? 1 : 0 };
        statistics(channels, x.GpuView, stats.GpuView, affine, layer.Weight.Value.GpuView, layer.Bias.Value.GpuView,
            layer.RunningMean.Value.GpuView, layer.RunningVar.Value.GpuView, layer.NumBatchesTracked.Value.GpuView, args);
        var apply = device.Launcher("batch-norm-apply", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(BatchNormApplyKernel));
        apply(x.Count, x.GpuView, y.GpuView, affine, channels, plane);
    }

    private static void BatchNorm2dBackwardGpu(BatchNorm2d layer, Tensor x, Tensor dy, Tensor stats, Tensor? dx, bool accumulate)
    {
        GpuBatchNormCheck(layer, x, dy, stats, "BatchNorm2d backward");
        if (dx is not null) GpuOps.Same(x, dx, "BatchNorm2d backward");
        KernelStats.Record("batch-norm-backward");
        var device = GpuOps.Dev(x);
        int batch = x.Shape[0], channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        var coefficients = device.Scratch("batch-norm-backward-affine", 3L * channels);
        bool hasDw = layer.Weight.RequiresGrad, hasDb = layer.Bias.RequiresGrad;
        var sums = device.Launcher("batch-norm-backward-stats", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, BatchNormArgs>(BatchNormBackwardStatsKernel));
        var args = new BatchNormArgs { Batch = batch, Channels = channels, Plane = plane, HasDw = hasDw ? 1 : 0, HasDb = hasDb ? 1 : 0 };
        sums(channels, x.GpuView, dy.GpuView, stats.GpuView, layer.Weight.Value.GpuView,
            hasDw ? layer.Weight.Grad.GpuView : coefficients, hasDb ? layer.Bias.Grad.GpuView : coefficients, coefficients, args);
        if (dx is null) return;
        var apply = device.Launcher("batch-norm-backward-apply", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(BatchNormBackwardApplyKernel));
        apply(x.Count, x.GpuView, dy.GpuView, dx.GpuView, coefficients, channels, plane, accumulate ? 1 : 0);
    }

    /// <summary>The scalars of the BatchNorm2d kernels.</summary>
    internal struct BatchNormArgs
    {
        public int Batch, Channels, Plane, Training, HasDw, HasDb;
        public double Eps, Momentum;
    }

    /// <summary>
    /// One thread per channel c, the CPU's statistics (N = batch·height·width values, sums in double, two passes):
    /// training: mean = Σx/N, var = Σ(x − mean)²/N, rstd = 1/√(var + eps), running_mean ← (1 − m)·running_mean + m·mean,
    /// running_var ← (1 − m)·running_var + m·Σ(x − mean)²/(N − 1); evaluation: mean and var are the running ones.
    /// stats[2c] = mean, stats[2c + 1] = rstd; affine[2c] = scale = w·rstd, affine[2c + 1] = shift = b − mean·scale.
    /// Thread 0 also writes stats[2C] = the training flag and, training, adds 1 to num_batches_tracked.
    /// </summary>
    [Gpu.GpuKernel]
    internal static void BatchNormStatsKernel(Index1D c, ArrayView<float> x, ArrayView<float> stats, ArrayView<float> affine, ArrayView<float> w,
        ArrayView<float> b, ArrayView<float> runningMean, ArrayView<float> runningVar, ArrayView<float> numBatchesTracked, BatchNormArgs args)
    {
        long n = (long)args.Batch * args.Plane;
        double mean, rstd;
        if (args.Training != 0)
        {
            double sum = 0;
            for (int s = 0; s < args.Batch; s++)
            {
                int offset = (s * args.Channels + c) * args.Plane;
                for (int i = 0; i < args.Plane; i++) sum += x[offset + i];
            }
            mean = sum / n;
            float tm = (float)mean;
            double sq = 0;
            for (int s = 0; s < args.Batch; s++)
            {
                int offset = (s * args.Channels + c) * args.Plane;
                for (int i = 0; i < args.Plane; i++)
                {
                    double d = x[offset + i] - tm;
                    sq += d * d;
                }
            }
            rstd = 1 / Math.Sqrt(sq / n + args.Eps);
            runningMean[c] = (float)((1 - args.Momentum) * runningMean[c] + args.Momentum * mean);
            runningVar[c] = (float)((1 - args.Momentum) * runningVar[c] + args.Momentum * sq / (n - 1));
        }
        else
        {
            mean = runningMean[c];
            rstd = 1 / Math.Sqrt(runningVar[c] + args.Eps);
        }
        stats[2 * c] = (float)mean;
        stats[2 * c + 1] = (float)rstd;
        double scale = w[c] * rstd;
        affine[2 * c] = (float)scale;
        affine[2 * c + 1] = (float)(b[c] - mean * scale);
        if (c == 0)
        {
            stats[2 * args.Channels] = args.Training != 0 ? 1f : 0f;
            if (args.Training != 0) numBatchesTracked[0] += 1f;
        }
    }

    /// <summary>One thread per element: y = x·scale[c] + shift[c].</summary>
    [Gpu.GpuKernel]
    internal static void BatchNormApplyKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> affine, int channels, int plane)
    {
        int c = i / plane % channels;
        y[i] = x[i] * affine[2 * c] + affine[2 * c + 1];
    }

    /// <summary>
    /// One thread per channel c, the CPU's backward sums (in double): Σdy and Σdy·(x − mean); with x̂ = (x − mean)·rstd,
    /// dw[c] += Σdy·x̂, db[c] += Σdy, and the coefficients of dx = a·x + k·dy + b: k = w·rstd and, when stats[2C] says the
    /// batch statistics were used (training), a = −k·rstd·Σ(dy·x̂)/N, b = −k·Σdy/N − mean·a (evaluation: a = b = 0).
    /// </summary>
    [Gpu.GpuKernel]
    internal static void BatchNormBackwardStatsKernel(Index1D c, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> stats, ArrayView<float> w,
        ArrayView<float> dw, ArrayView<float> db, ArrayView<float> coefficients, BatchNormArgs args)
    {
        long n = (long)args.Batch * args.Plane;
        float mean = stats[2 * c];
        double rstd = stats[2 * c + 1];
        bool training = stats[2 * args.Channels] != 0f;
        double sumDy = 0, sumDyCentered = 0;
        for (int s = 0; s < args.Batch; s++)
        {
            int offset = (s * args.Channels + c) * args.Plane;
            for (int i = 0; i < args.Plane; i++)
            {
                float g = dy[offset + i];
                sumDy += g;
                sumDyCentered += g * (x[offset + i] - mean);
            }
        }
        double sumDyXhat = sumDyCentered * rstd;
        if (args.HasDw != 0) dw[c] += (float)sumDyXhat;
        if (args.HasDb != 0) db[c] += (float)sumDy;
        double k = w[c] * rstd;
        double alpha = training ? -k * rstd * sumDyXhat / n : 0;
        double beta = training ? -k * sumDy / n - mean * alpha : 0;
        coefficients[3 * c] = (float)alpha;
        coefficients[3 * c + 1] = (float)k;
        coefficients[3 * c + 2] = (float)beta;
    }

    /// <summary>One thread per element: dx (+)= a[c]·x + b[c] + k[c]·dy.</summary>
    [Gpu.GpuKernel]
    internal static void BatchNormBackwardApplyKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, ArrayView<float> coefficients,
        int channels, int plane, int accumulate)
    {
        int c = i / plane % channels;
        float v = x[i] * coefficients[3 * c] + coefficients[3 * c + 2];
        v += dy[i] * coefficients[3 * c + 1];
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }

    /// <summary>Vectorised per-plane loops of BatchNorm2d (Vector512, Vector256 or scalar); sums come back in double.</summary>
    private static class ChannelMath<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static double Sum(T* x, int n)
        {
            int i = 0;
            double s = 0;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            {
                var acc = Vector512<T>.Zero;
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count) acc += Vector512.Load(x + i);
                s = double.CreateTruncating(Vector512.Sum(acc));
            }
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) acc += Vector256.Load(x + i);
                s = double.CreateTruncating(Vector256.Sum(acc));
            }
            for (; i < n; i++) s += double.CreateTruncating(x[i]);
            return s;
        }

        /// <summary>Σ (x − mean)².</summary>
        public static double SquaredDeviation(T* x, int n, T mean)
        {
            int i = 0;
            double s = 0;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            {
                var acc = Vector512<T>.Zero;
                var m = Vector512.Create(mean);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var d = Vector512.Load(x + i) - m;
                    acc += d * d;
                }
                s = double.CreateTruncating(Vector512.Sum(acc));
            }
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                var m = Vector256.Create(mean);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var d = Vector256.Load(x + i) - m;
                    acc += d * d;
                }
                s = double.CreateTruncating(Vector256.Sum(acc));
            }
            for (; i < n; i++)
            {
                double d = double.CreateTruncating(x[i] - mean);
                s += d * d;
            }
            return s;
        }

        /// <summary>(Σ dy, Σ dy·(x − mean)).</summary>
        public static (double Sum, double Dot) SumAndCenteredDot(T* dy, T* x, int n, T mean)
        {
            int i = 0;
            double s = 0, d = 0;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            {
                Vector512<T> accS = Vector512<T>.Zero, accD = Vector512<T>.Zero, m = Vector512.Create(mean);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var g = Vector512.Load(dy + i);
                    accS += g;
                    accD += g * (Vector512.Load(x + i) - m);
                }
                s = double.CreateTruncating(Vector512.Sum(accS));
                d = double.CreateTruncating(Vector512.Sum(accD));
            }
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                Vector256<T> accS = Vector256<T>.Zero, accD = Vector256<T>.Zero, m = Vector256.Create(mean);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var g = Vector256.Load(dy + i);
                    accS += g;
                    accD += g * (Vector256.Load(x + i) - m);
                }
                s = double.CreateTruncating(Vector256.Sum(accS));
                d = double.CreateTruncating(Vector256.Sum(accD));
            }
            for (; i < n; i++)
            {
                s += double.CreateTruncating(dy[i]);
                d += double.CreateTruncating(dy[i] * (x[i] - mean));
            }
            return (s, d);
        }

        /// <summary>out (+)= a·x + k·dy + b (dy may be null: out = a·x + b).</summary>
        public static void Affine(T* x, T* dy, T* output, int n, T a, T k, T b, bool accumulate)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<T> va = Vector512.Create(a), vk = Vector512.Create(k), vb = Vector512.Create(b);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var v = Vector512.Load(x + i) * va + vb;
                    if (dy != null) v += Vector512.Load(dy + i) * vk;
                    if (accumulate) v += Vector512.Load(output + i);
                    v.Store(output + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<T> va = Vector256.Create(a), vk = Vector256.Create(k), vb = Vector256.Create(b);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var v = Vector256.Load(x + i) * va + vb;
                    if (dy != null) v += Vector256.Load(dy + i) * vk;
                    if (accumulate) v += Vector256.Load(output + i);
                    v.Store(output + i);
                }
            }
            for (; i < n; i++)
            {
                T v = x[i] * a + b;
                if (dy != null) v += dy[i] * k;
                output[i] = accumulate ? output[i] + v : v;
            }
        }
    }
}
