using System.Numerics;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>
/// Row-wise and reduction routines of the CPU engine that the generated code calls (the element-wise chains are
/// emitted per model by the generator; GEMMs are in <see cref="CpuGemm"/>). Reductions accumulate in double.
/// "accumulate" means add into the destination (fan-out, parameter gradients) instead of assigning.
/// </summary>
public static unsafe class CpuKernels
{
    /// <summary>Backward of act(z + b) given y = act(z + b): dz = act'(y) ⊙ dy (dz may alias dy) and
    /// db (+)= Σ_rows dz, in one pass over dy. With no activation it only reduces the bias gradient.</summary>
    public static void ActivationBackward<T, TAct>(T* dy, T* y, T* dz, T* db, int rows, int cols, bool accumulateDb)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        KernelStats.Record(typeof(TAct) == typeof(Identity<T>) ? "bias-grad" : "activation-backward+bias-grad");
        var body = new ActivationBackwardBody<T, TAct> { Dy = dy, Y = y, Dz = dz, Db = db, Rows = rows, Cols = cols, Accumulate = accumulateDb };
        int blocks = (cols + 63) / 64;
        if ((long)rows * cols < 32_768) body.Execute(0, blocks);
        else CpuParallel.For(blocks, 1, ref body);
    }

    private struct ActivationBackwardBody<T, TAct> : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        public T* Dy, Y, Dz, Db;
        public int Rows, Cols;
        public bool Accumulate;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int c0 = start * 64, c1 = Math.Min(Cols, end * 64);
            bool identity = typeof(TAct) == typeof(Identity<T>);
            for (int c = c0; c < c1; c++)
                if (Db != null && !Accumulate) Db[c] = T.Zero;
            for (int r = 0; r < Rows; r++)
            {
                T* dy = Dy + (long)r * Cols, y = Y + (long)r * Cols, dz = Dz + (long)r * Cols;
                int c = c0;
                if (Vector512.IsHardwareAccelerated)
                {
                    for (; c <= c1 - Vector512<T>.Count; c += Vector512<T>.Count)
                    {
                        var g = Vector512.Load(dy + c);
                        if (!identity)
                        {
                            g = default(TAct).Grad(Vector512.Load(y + c), g);
                            g.Store(dz + c);
                        }
                        if (Db != null) (Vector512.Load(Db + c) + g).Store(Db + c);
                    }
                }
                else if (Vector256.IsHardwareAccelerated)
                {
                    for (; c <= c1 - Vector256<T>.Count; c += Vector256<T>.Count)
                    {
                        var g = Vector256.Load(dy + c);
                        if (!identity)
                        {
                            g = default(TAct).Grad(Vector256.Load(y + c), g);
                            g.Store(dz + c);
                        }
                        if (Db != null) (Vector256.Load(Db + c) + g).Store(Db + c);
                    }
                }
                for (; c < c1; c++)
                {
                    var g = dy[c];
                    if (!identity)
                    {
                        g = default(TAct).Grad(y[c], g);
                        dz[c] = g;
                    }
                    if (Db != null) Db[c] += g;
                }
            }
        }
    }

    /// <summary>dst (+)= src, element-wise (gradient fan-out and sub-model gradients).</summary>
    public static void AddInto<T>(T* dst, T* src, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dst == src) return;
        KernelStats.Record(accumulate ? "add" : "copy");
        if (!accumulate)
        {
            Buffer.MemoryCopy(src, dst, (long)n * sizeof(T), (long)n * sizeof(T));
            return;
        }
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count) (Vector512.Load(dst + i) + Vector512.Load(src + i)).Store(dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }

    /// <summary>y = softmax(x) over the last dimension.</summary>
    public static void Softmax<T>(T* x, T* y, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
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
    public static void LogSoftmax<T>(T* x, T* y, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
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
    public static void SoftmaxBackward<T>(T* y, T* dy, T* dx, int rows, int cols, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
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
    public static void LogSoftmaxBackward<T>(T* y, T* dy, T* dx, int rows, int cols, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
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

    /// <summary>Fused softmax + cross-entropy: returns mean_r(−log softmax(logits_r)[label_r]) and keeps the
    /// probabilities in <paramref name="probs"/> for the backward. Labels are validated (0 ≤ label &lt; cols).</summary>
    public static double SoftmaxCrossEntropy<T>(T* logits, int* labels, T* probs, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
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
    public static void SoftmaxCrossEntropyBackward<T>(T* probs, int* labels, T* dlogits, int rows, int cols, T scale, bool accumulate)
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

    /// <summary>out[0] = scale · Σ x (scale 1 for Sum, 1/n for Mean).</summary>
    public static void Sum<T>(T* x, int n, T* result, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("sum");
        double sum = 0;
        for (int i = 0; i < n; i++) sum += double.CreateTruncating(x[i]);
        result[0] = T.CreateTruncating(sum * scale);
    }

    /// <summary>dx (+)= dy[0] · scale, broadcast.</summary>
    public static void SumBackward<T>(T* dy, T* dx, int n, double scale, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("sum-backward");
        T g = dy[0] * T.CreateTruncating(scale);
        for (int i = 0; i < n; i++) dx[i] = accumulate ? dx[i] + g : g;
    }

    /// <summary>out[0] = mean((a − b)²).</summary>
    public static void Mse<T>(T* a, T* b, int n, T* result) where T : unmanaged, IFloatingPointIeee754<T>
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
    public static void MseBackward<T>(T* a, T* b, T* dy, T* da, bool accumulateA, T* db, bool accumulateB, int n)
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

    /// <summary>Inverted dropout: mask = (u ≥ p) / (1 − p) with u drawn from a counter-based hash of
    /// (seed, step, index), so a step's mask is reproducible and independent of threading; y = x ⊙ mask.</summary>
    public static void Dropout<T>(T* x, T* mask, T* y, int n, double p, ulong seed, ulong step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("dropout");
        T keep = p >= 1 ? T.Zero : T.CreateTruncating(1.0 / (1.0 - p));
        ulong key = Rng.Mix(seed ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL));
        for (int i = 0; i < n; i++)
        {
            double u = Rng.Uniform(key, (ulong)i);
            var m = u >= p ? keep : T.Zero;
            mask[i] = m;
            y[i] = x[i] * m;
        }
    }

    /// <summary>dx (+)= dy ⊙ mask.</summary>
    public static void MultiplyBackward<T>(T* dy, T* mask, T* dx, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("dropout-backward");
        for (int i = 0; i < n; i++)
        {
            var v = dy[i] * mask[i];
            dx[i] = accumulate ? dx[i] + v : v;
        }
    }

    private static T RowMax<T>(T* x, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = T.NegativeInfinity;
        for (int c = 0; c < n; c++)
            if (x[c] > max) max = x[c];
        return max;
    }
}

/// <summary>Deterministic, counter-based random numbers (SplitMix64 mixing): the same seed gives the same values on
/// every machine, engine and thread count.</summary>
public static class Rng
{
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform double in [0, 1) for (key, counter).</summary>
    public static double Uniform(ulong key, ulong counter) => (Mix(key ^ Mix(counter)) >> 11) * (1.0 / (1UL << 53));
}
