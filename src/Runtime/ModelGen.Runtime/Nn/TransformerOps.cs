using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>Runtime routines of the transformer ops (CPU engine): embedding lookup, LayerNorm, multi-head attention
/// and first-token pooling, each with its backward. Reductions accumulate in double.</summary>
public static unsafe partial class Ops
{
    // ---------------- Embedding ----------------

    public static Shape EmbeddingShape(Shape ids, Embedding layer) => new([.. ids.Dims, layer.Dim]);

    /// <summary>y[i] = W[ids[i]]; ids outside the table raise an error naming the position.</summary>
    public static void EmbeddingForward<T>(Embedding layer, Tensor ids, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("embedding");
        RequireCpu(ids, "Embedding");
        T* w = layer.Weight.Value.Ptr<T>(), o = y.Ptr<T>();
        T* idv = ids.Ptr<T>();
        int dim = layer.Dim;
        for (int i = 0; i < ids.Count; i++)
        {
            int id = TokenId(idv[i], i, ids.Shape, layer);
            new ReadOnlySpan<T>(w + (long)id * dim, dim).CopyTo(new Span<T>(o + (long)i * dim, dim));
        }
    }

    /// <summary>dW[ids[i]] += dy[i] (rows of the padding index get no gradient, as in PyTorch).</summary>
    public static void EmbeddingBackward<T>(Embedding layer, Tensor ids, Tensor dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!layer.Weight.RequiresGrad) return;
        KernelStats.Record("embedding-backward");
        T* g = layer.Weight.Grad.Ptr<T>(), d = dy.Ptr<T>();
        T* idv = ids.Ptr<T>();
        int dim = layer.Dim;
        for (int i = 0; i < ids.Count; i++)
        {
            int id = TokenId(idv[i], i, ids.Shape, layer);
            if (id == layer.PaddingIndex) continue;
            T* row = g + (long)id * dim, src = d + (long)i * dim;
            for (int c = 0; c < dim; c++) row[c] += src[c];
        }
    }

    private static int TokenId<T>(T value, int index, Shape shape, Embedding layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double v = double.CreateTruncating(value);
        int id = (int)v;
        if (id != v || (uint)id >= (uint)layer.Count)
        {
            var position = shape.Rank == 2 ? $"({index / shape[1]}, {index % shape[1]})" : index.ToString();
            throw new ArgumentOutOfRangeException(nameof(value), $"{layer.Name}: token id {v} at position {position} is outside the vocabulary of {layer.Count}.");
        }
        return id;
    }

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

    // ---------------- multi-head self-attention ----------------

    public static Shape AttentionShape(Shape q, Shape k, Shape v, Shape? mask, int heads)
    {
        if (q.Rank != 3 || !q.Equals(k) || !q.Equals(v))
            throw new ShapeMismatchException($"Attention needs query, key and value of one shape [batch, seq, hidden]; got {q}, {k}, {v}.");
        if (heads <= 0 || q[2] % heads != 0)
            throw new ShapeMismatchException($"Attention: {heads} heads do not divide the hidden size {q[2]}.");
        if (mask is not null && (mask.Rank != 2 || mask[0] != q[0] || mask[1] != q[1]))
            throw new ShapeMismatchException($"Attention: the padding mask must be [batch, seq] = [{q[0]}, {q[1]}] but is {mask}.");
        return q;
    }

    public static Shape AttentionProbsShape(Shape q, int heads) => new(q[0], heads, q[1], q[1]);

    /// <summary>
    /// ctx = dropout(softmax(Q_h·K_hᵀ/√d + (1 − mask)·(−10000))) · V_h for every batch and head, with the heads read and
    /// written in place in [batch, seq, hidden] (strided GEMMs, no split or merge copies). Keeps the probabilities P for
    /// the backward, and with a <paramref name="dropout"/> layer (training) the dropped ones P' = P ⊙ M in
    /// <paramref name="dropped"/>, M = (u ≥ p)/(1 − p) drawn from (seed, step, the layer's name, element) like every
    /// dropout: reproducible and independent of threading. A null <paramref name="dropout"/> (eval) is the identity.
    /// </summary>
    public static void AttentionForward<T>(Tensor q, Tensor k, Tensor v, Tensor? mask, int heads, Tensor probs, Tensor ctx,
        Dropout? dropout = null, Tensor? dropped = null, int seed = 0, ulong step = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("attention");
        RequireCpu(q, "Attention");
        bool drop = dropout is { P: > 0 } && dropped is not null;
        var body = new AttentionBody<T>
        {
            Q = q.Ptr<T>(), K = k.Ptr<T>(), V = v.Ptr<T>(), Mask = mask is null ? null : mask.Ptr<T>(), P = probs.Ptr<T>(), C = ctx.Ptr<T>(),
            PD = drop ? dropped!.Ptr<T>() : null, DropP = drop ? dropout!.P : 0,
            DropKey = drop ? Rng.Mix(DropoutKey(dropout!, seed) ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL)) : 0,
            Seq = q.Shape[1], Hidden = q.Shape[2], Heads = heads, Backward = false,
        };
        CpuParallel.For(q.Shape[0] * heads, 1, ref body);
    }

    /// <summary>
    /// Backward of attention, per batch and head (P the stored probabilities, s = 1/√d):
    ///   dV_h (+)= Pᵀ·dC_h;  dP = dC_h·V_hᵀ;  dS = P ⊙ (dP − Σ_j dP⊙P) · s;  dQ_h (+)= dS·K_h;  dK_h (+)= dSᵀ·Q_h.
    /// </summary>
    /// With the probability dropout of the forward pass (<paramref name="dropout"/> and its <paramref name="dropped"/>
    /// P' = P ⊙ M): dV_h (+)= P'ᵀ·dC_h and dP = (dC_h·V_hᵀ) ⊙ M before the softmax backward, where M = 1/(1 − p) wherever
    /// P' ≠ 0 and 0 elsewhere (where P = 0 the softmax backward multiplies by P, so M's value there does not matter).
    public static void AttentionBackward<T>(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor dctx, int heads,
        Tensor? dq, bool accQ, Tensor? dk, bool accK, Tensor? dv, bool accV, Dropout? dropout = null, Tensor? dropped = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("attention-backward");
        int batch = q.Shape[0], seq = q.Shape[1];
        var scratch = AttentionScratch<T>.Get((long)batch * heads * seq * seq);
        var body = new AttentionBody<T>
        {
            Q = q.Ptr<T>(), K = k.Ptr<T>(), V = v.Ptr<T>(), P = probs.Ptr<T>(), C = dctx.Ptr<T>(), Scratch = scratch,
            PD = dropout is { P: > 0 } && dropped is not null ? dropped.Ptr<T>() : null, DropP = dropout?.P ?? 0,
            DQ = dq is null ? null : dq.Ptr<T>(), DK = dk is null ? null : dk.Ptr<T>(), DV = dv is null ? null : dv.Ptr<T>(),
            AccQ = accQ, AccK = accK, AccV = accV,
            Seq = seq, Hidden = q.Shape[2], Heads = heads, Backward = true,
        };
        CpuParallel.For(batch * heads, 1, ref body);
    }

    private struct AttentionBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Q, K, V, Mask, P, C, Scratch, DQ, DK, DV;
        public T* PD; // the dropped probabilities P' = P ⊙ M, or null without probability dropout
        public double DropP;
        public ulong DropKey;
        public int Seq, Hidden, Heads;
        public bool Backward, AccQ, AccK, AccV;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int d = Hidden / Heads;
            T scale = T.CreateTruncating(1 / Math.Sqrt(d));
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / Heads, h = bh % Heads;
                long offset = (long)b * Seq * Hidden + h * d;
                T* q = Q + offset, k = K + offset, v = V + offset, c = C + offset;
                T* p = P + (long)bh * Seq * Seq;
                if (!Backward)
                {
                    // S = Q·Kᵀ (NT), scaled, masked, softmax in place; C = P·V (NN)
                    CpuGemm.Run(q, Hidden, false, k, Hidden, true, p, Seq, Seq, Seq, d, false, default(NoEpilogue<T>));
                    T* mask = Mask == null ? null : Mask + (long)b * Seq;
                    for (int i = 0; i < Seq; i++) MaskedSoftmaxRow(p + (long)i * Seq, Seq, scale, mask);
                    T* used = p;
                    if (PD != null)
                    {
                        used = PD + (long)bh * Seq * Seq;
                        DropRows(p, used, (long)Seq * Seq, (ulong)bh * (ulong)Seq * (ulong)Seq);
                    }
                    CpuGemm.Run(used, Seq, false, v, Hidden, false, c, Hidden, Seq, d, Seq, false, default(NoEpilogue<T>));
                    continue;
                }
                T* pd = PD == null ? p : PD + (long)bh * Seq * Seq;
                if (DV != null) CpuGemm.Run(pd, Seq, true, c, Hidden, false, DV + offset, Hidden, Seq, d, Seq, AccV, default(NoEpilogue<T>));
                T* dp = Scratch + (long)bh * Seq * Seq;
                CpuGemm.Run(c, Hidden, false, v, Hidden, true, dp, Seq, Seq, Seq, d, false, default(NoEpilogue<T>));
                if (PD != null) UndropRows(pd, dp, (long)Seq * Seq);
                for (int i = 0; i < Seq; i++) SoftmaxBackwardRow(p + (long)i * Seq, dp + (long)i * Seq, Seq, scale);
                if (DQ != null) CpuGemm.Run(dp, Seq, false, k, Hidden, false, DQ + offset, Hidden, Seq, d, Seq, AccQ, default(NoEpilogue<T>));
                if (DK != null) CpuGemm.Run(dp, Seq, true, q, Hidden, false, DK + offset, Hidden, Seq, d, Seq, AccK, default(NoEpilogue<T>));
            }
        }

        /// <summary>pd = p ⊙ M over one head's [seq, seq] probabilities; the counter is the element's index in the whole
        /// [batch, heads, seq, seq] tensor, so the mask does not depend on how the heads are split over threads.</summary>
        private readonly void DropRows(T* p, T* pd, long n, ulong counter0)
        {
            T keep = T.CreateTruncating(1.0 / (1.0 - DropP));
            for (long i = 0; i < n; i++)
                pd[i] = Rng.Uniform(DropKey, counter0 + (ulong)i) >= DropP ? p[i] * keep : T.Zero;
        }

        /// <summary>dp ← dp ⊙ M, M read back from the dropped probabilities (1/(1 − p) where P' ≠ 0).</summary>
        private readonly void UndropRows(T* pd, T* dp, long n)
        {
            T keep = T.CreateTruncating(1.0 / (1.0 - DropP));
            for (long i = 0; i < n; i++) dp[i] = pd[i] != T.Zero ? dp[i] * keep : T.Zero;
        }

        /// <summary>row ← softmax(row·scale + (1 − mask)·(−10000)), BERT's additive padding mask; Vector512 where available.</summary>
        private static void MaskedSoftmaxRow(T* row, int n, T scale, T* mask)
        {
            T masked = T.CreateTruncating(-10000.0);
            T max = T.NegativeInfinity;
            int j = 0, w = Vector512<T>.Count;
            if (Vector512.IsHardwareAccelerated)
            {
                var vScale = Vector512.Create(scale); var vMasked = Vector512.Create(masked); var vMax = Vector512.Create(T.NegativeInfinity);
                for (; j + w <= n; j += w)
                {
                    var s = Vector512.Load(row + j) * vScale;
                    if (mask != null) s += (Vector512<T>.One - Vector512.Load(mask + j)) * vMasked;
                    s.Store(row + j);
                    vMax = Vector512.Max(vMax, s);
                }
                for (int lane = 0; lane < w; lane++) max = T.Max(max, vMax[lane]);
            }
            for (; j < n; j++)
            {
                T s = row[j] * scale;
                if (mask != null) s += (T.One - mask[j]) * masked;
                row[j] = s;
                max = T.Max(max, s);
            }
            T sum = T.Zero;
            j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vMax = Vector512.Create(max); var vSum = Vector512<T>.Zero;
                for (; j + w <= n; j += w)
                {
                    var e = VMath.Exp(Vector512.Load(row + j) - vMax);
                    e.Store(row + j);
                    vSum += e;
                }
                sum = Vector512.Sum(vSum);
            }
            for (; j < n; j++)
            {
                T e = T.Exp(row[j] - max);
                row[j] = e;
                sum += e;
            }
            T inv = T.One / sum;
            j = 0;
            if (Vector512.IsHardwareAccelerated)
                for (var vInv = Vector512.Create(inv); j + w <= n; j += w) (Vector512.Load(row + j) * vInv).Store(row + j);
            for (; j < n; j++) row[j] *= inv;
        }

        /// <summary>dS = P ⊙ (dP − Σ_j P·dP)·scale for one row (the softmax backward folded with the 1/√d scale), in place in dP.</summary>
        private static void SoftmaxBackwardRow(T* pr, T* dr, int n, T scale)
        {
            int j = 0, w = Vector512<T>.Count;
            T dot = T.Zero;
            if (Vector512.IsHardwareAccelerated)
            {
                var acc = Vector512<T>.Zero;
                for (; j + w <= n; j += w) acc += Vector512.Load(pr + j) * Vector512.Load(dr + j);
                dot = Vector512.Sum(acc);
            }
            for (; j < n; j++) dot += pr[j] * dr[j];
            j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vDot = Vector512.Create(dot); var vScale = Vector512.Create(scale);
                for (; j + w <= n; j += w) (Vector512.Load(pr + j) * (Vector512.Load(dr + j) - vDot) * vScale).Store(dr + j);
            }
            for (; j < n; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
        }
    }

    private static class AttentionScratch<T> where T : unmanaged
    {
        private static T* _buffer;
        private static long _capacity;

        public static T* Get(long count)
        {
            if (count > _capacity)
            {
                if (_buffer != null) System.Runtime.InteropServices.NativeMemory.AlignedFree(_buffer);
                _buffer = (T*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(count * sizeof(T)), 64);
                _capacity = count;
            }
            return _buffer;
        }
    }

    // ---------------- first-token pooling ----------------

    public static Shape FirstTokenShape(Shape x)
    {
        if (x.Rank != 3) throw new ShapeMismatchException($"FirstToken needs [batch, seq, hidden] but got {x}.");
        return new Shape(x[0], x[2]);
    }

    /// <summary>y[b] = x[b, 0, :] (BERT's [CLS] pooling input).</summary>
    public static void FirstTokenForward<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("first-token");
        int batch = x.Shape[0], seq = x.Shape[1], hidden = x.Shape[2];
        T* xp = x.Ptr<T>(), yp = y.Ptr<T>();
        for (int b = 0; b < batch; b++) new ReadOnlySpan<T>(xp + (long)b * seq * hidden, hidden).CopyTo(new Span<T>(yp + (long)b * hidden, hidden));
    }

    /// <summary>dx[b, 0, :] (+)= dy[b]; the other positions get zero (or keep their accumulated value).</summary>
    public static void FirstTokenBackward<T>(Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("first-token-backward");
        int batch = dx.Shape[0], seq = dx.Shape[1], hidden = dx.Shape[2];
        T* g = dy.Ptr<T>(), d = dx.Ptr<T>();
        if (!accumulate) new Span<T>(d, dx.Count).Clear();
        for (int b = 0; b < batch; b++)
        {
            T* row = d + (long)b * seq * hidden, src = g + (long)b * hidden;
            for (int c = 0; c < hidden; c++) row[c] += src[c];
        }
    }

    private static void RequireCpu(Tensor t, string op)
    {
        if (!t.Device.IsCpu) throw new NotSupportedException($"{op} runs on the CPU engine; its ILGPU kernels are not written yet (use --device cpu).");
    }
}
