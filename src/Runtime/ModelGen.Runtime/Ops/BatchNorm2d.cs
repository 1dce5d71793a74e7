using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>BatchNorm2d's runtime routines: shape rule, CPU forward and backward (running statistics); its ILGPU form goes here too (generator rule: src/Generators/Ops/BatchNorm2d.cs).</summary>
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
        RequireCpu(x, "BatchNorm2d");
        KernelStats.Record("batch-norm");
        int batch = x.Shape[0], channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        if (training && (long)batch * plane < 2)
            throw new ArgumentException($"{layer.Name} ({layer}): training needs more than one value per channel to estimate a variance, but got input {x.Shape} (use Eval() for single values).");
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

    /// <summary>
    /// Backward of BatchNorm2d per channel (N = batch·height·width values, x̂ = (x − mean)/σ):
    ///   dw += Σ dy·x̂,  db += Σ dy;
    ///   training (batch statistics): dx (+)= w/σ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N);
    ///   evaluation (running statistics are constants): dx (+)= w/σ · dy.
    /// </summary>
    public static void BatchNorm2dBackward<T>(BatchNorm2d layer, Tensor x, Tensor dy, Tensor stats, Tensor? dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
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
