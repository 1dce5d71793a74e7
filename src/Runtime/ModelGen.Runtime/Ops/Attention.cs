using System.Numerics;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Multi-head self-attention's runtime routines: shape rule, CPU forward and backward with probability dropout, and their ILGPU form (generator rule: src/Generators/Ops/Attention.cs).</summary>
public static unsafe partial class Ops
{
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
        bool drop = dropout is { P: > 0 } && dropped is not null;
        if (!q.Device.IsCpu)
        {
            AttentionForwardGpu(q, k, v, mask, heads, probs, ctx, drop ? dropped : null, drop ? dropout!.P : 0,
                drop ? Rng.Mix(DropoutKey(dropout!, seed) ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL)) : 0);
            return;
        }
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
        if (!q.Device.IsCpu)
        {
            bool drop = dropout is { P: > 0 } && dropped is not null;
            AttentionBackwardGpu(q, k, v, probs, dctx, heads, dq, accQ, dk, accK, dv, accV, drop ? dropped : null, drop ? dropout!.P : 0);
            return;
        }
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

    // ---------------- ILGPU ----------------
    // The same factorisation as the CPU form, one kernel per product (one thread per output element, sums in the CPU
    // form's order over the shared index): S = Q_h·K_hᵀ (scaled, masked), the row softmax, the dropout of P, C = P'·V_h;
    // backward dV, dP (⊙ M), the softmax backward, dQ and dK.

    /// <summary>Sizes of one attention call, passed to its kernels as one value.</summary>
    internal struct AttentionGeom
    {
        public int Seq, Hidden, Heads, HeadDim;
        public float Scale;

        public AttentionGeom(Tensor q, int heads)
        {
            Seq = q.Shape[1];
            Hidden = q.Shape[2];
            Heads = heads;
            HeadDim = Hidden / heads;
            Scale = (float)(1 / Math.Sqrt(HeadDim));
        }
    }

    private static void CheckAttentionGpu(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor other, int heads)
    {
        AttentionShape(q.Shape, k.Shape, v.Shape, null, heads);
        if (probs.Count != q.Shape[0] * heads * q.Shape[1] * q.Shape[1] || other.Count != q.Count)
            throw new ShapeMismatchException($"Attention: probabilities {probs.Shape} or context {other.Shape} do not fit {q.Shape} with {heads} heads.");
        GpuOps.Same(q, other, "Attention");
    }

    private static void AttentionForwardGpu(Tensor q, Tensor k, Tensor v, Tensor? mask, int heads, Tensor probs, Tensor ctx, Tensor? dropped, double dropP, ulong dropKey)
    {
        CheckAttentionGpu(q, k, v, probs, ctx, heads);
        if (mask is not null) AttentionShape(q.Shape, k.Shape, v.Shape, mask.Shape, heads);
        if (dropped is not null && dropped.Count != probs.Count) throw new ShapeMismatchException($"Attention: dropped probabilities {dropped.Shape} differ from {probs.Shape}.");
        var d = GpuOps.Dev(q);
        var g = new AttentionGeom(q, heads);
        var scores = d.Launcher("attention-scores", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, AttentionGeom>(AttentionScoresKernel));
        scores(probs.Count, q.GpuView, k.GpuView, (mask ?? q).GpuView, probs.GpuView, mask is null ? 0 : 1, g);
        var softmax = d.Launcher("attention-softmax", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int>(AttentionSoftmaxKernel));
        softmax(probs.Count / g.Seq, probs.GpuView, g.Seq);
        var used = probs;
        if (dropped is not null)
        {
            var drop = d.Launcher("attention-dropout", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, double, float, ulong>(AttentionDropoutKernel));
            drop(probs.Count, probs.GpuView, dropped.GpuView, dropP, (float)(1.0 / (1.0 - dropP)), dropKey);
            used = dropped;
        }
        var context = d.Launcher("attention-context", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, AttentionGeom>(AttentionByValuesKernel));
        context(ctx.Count, used.GpuView, v.GpuView, ctx.GpuView, 0, g);
    }

    private static void AttentionBackwardGpu(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor dctx, int heads,
        Tensor? dq, bool accQ, Tensor? dk, bool accK, Tensor? dv, bool accV, Tensor? dropped, double dropP)
    {
        CheckAttentionGpu(q, k, v, probs, dctx, heads);
        if (dq is not null) GpuOps.Same(q, dq, "Attention backward");
        if (dk is not null) GpuOps.Same(q, dk, "Attention backward");
        if (dv is not null) GpuOps.Same(q, dv, "Attention backward");
        var d = GpuOps.Dev(q);
        var g = new AttentionGeom(q, heads);
        var pd = dropped ?? probs;
        if (dv is not null)
        {
            var byValues = d.Launcher("attention-dv", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, AttentionGeom>(AttentionTransposedByRowsKernel));
            byValues(dv.Count, pd.GpuView, dctx.GpuView, dv.GpuView, accV ? 1 : 0, g);
        }
        var dp = d.Scratch("attention-dp", probs.Count);
        var dProbs = d.Launcher("attention-dp", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, AttentionGeom>(AttentionProbsGradKernel));
        dProbs(probs.Count, dctx.GpuView, v.GpuView, pd.GpuView, dp, dropped is null ? 0 : 1, (float)(1.0 / (1.0 - dropP)), g);
        var softmaxBackward = d.Launcher("attention-softmax-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(AttentionSoftmaxBackwardKernel));
        softmaxBackward(probs.Count / g.Seq, probs.GpuView, dp, g.Seq, g.Scale);
        if (dq is not null)
        {
            var byKeys = d.Launcher("attention-context", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, AttentionGeom>(AttentionByValuesKernel));
            byKeys(dq.Count, dp, k.GpuView, dq.GpuView, accQ ? 1 : 0, g);
        }
        if (dk is not null)
        {
            var byQueries = d.Launcher("attention-dv", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, AttentionGeom>(AttentionTransposedByRowsKernel));
            byQueries(dk.Count, dp, q.GpuView, dk.GpuView, accK ? 1 : 0, g);
        }
    }

    /// <summary>S[b, h, i, j] = Σ_t Q[b, i, h·d + t]·K[b, j, h·d + t]·scale + (1 − mask[b, j])·(−10000).</summary>
    [GpuKernel]
    internal static void AttentionScoresKernel(Index1D index, ArrayView<float> q, ArrayView<float> k, ArrayView<float> mask, ArrayView<float> s, int hasMask, AttentionGeom g)
    {
        int seq = g.Seq, j = index % seq, i = index / seq % seq, bh = index / (seq * seq);
        int b = bh / g.Heads, h = bh % g.Heads;
        int qOffset = (b * seq + i) * g.Hidden + h * g.HeadDim, kOffset = (b * seq + j) * g.Hidden + h * g.HeadDim;
        float dot = 0f;
        for (int t = 0; t < g.HeadDim; t++) dot += q[qOffset + t] * k[kOffset + t];
        float score = dot * g.Scale;
        if (hasMask != 0) score += (1f - mask[b * seq + j]) * -10000f;
        s[index] = score;
    }

    /// <summary>One thread per row of S: softmax in place (maximum subtracted).</summary>
    [GpuKernel]
    internal static void AttentionSoftmaxKernel(Index1D row, ArrayView<float> p, int n)
    {
        int offset = row * n;
        float max = float.NegativeInfinity;
        for (int j = 0; j < n; j++) max = MathF.Max(max, p[offset + j]);
        float sum = 0f;
        for (int j = 0; j < n; j++)
        {
            float e = GpuMath.Exp(p[offset + j] - max);
            p[offset + j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int j = 0; j < n; j++) p[offset + j] *= inv;
    }

    /// <summary>P' = P ⊙ M, M = (u ≥ p)/(1 − p), u drawn from the element's index in [batch, heads, seq, seq] as on the CPU.</summary>
    [GpuKernel]
    internal static void AttentionDropoutKernel(Index1D i, ArrayView<float> p, ArrayView<float> dropped, double dropP, float keep, ulong key)
        => dropped[i] = Rng.Uniform(key, (ulong)(int)i) >= dropP ? p[i] * keep : 0f;

    /// <summary>out[b, i, h·d + t] (+)= Σ_j A[b, h, i, j]·B[b, j, h·d + t]: the context P'·V_h, and dQ = dS·K_h.</summary>
    [GpuKernel]
    internal static void AttentionByValuesKernel(Index1D index, ArrayView<float> a, ArrayView<float> values, ArrayView<float> output, int accumulate, AttentionGeom g)
    {
        int seq = g.Seq, col = index % g.Hidden, i = index / g.Hidden % seq, b = index / (g.Hidden * seq);
        int rowOffset = ((b * g.Heads + col / g.HeadDim) * seq + i) * seq;
        float sum = 0f;
        for (int j = 0; j < seq; j++) sum += a[rowOffset + j] * values[(b * seq + j) * g.Hidden + col];
        output[index] = accumulate != 0 ? output[index] + sum : sum;
    }

    /// <summary>out[b, j, h·d + t] (+)= Σ_i A[b, h, i, j]·B[b, i, h·d + t]: dV = P'ᵀ·dC_h, and dK = dSᵀ·Q_h.</summary>
    [GpuKernel]
    internal static void AttentionTransposedByRowsKernel(Index1D index, ArrayView<float> a, ArrayView<float> rows, ArrayView<float> output, int accumulate, AttentionGeom g)
    {
        int seq = g.Seq, col = index % g.Hidden, j = index / g.Hidden % seq, b = index / (g.Hidden * seq);
        int headOffset = (b * g.Heads + col / g.HeadDim) * seq * seq;
        float sum = 0f;
        for (int i = 0; i < seq; i++) sum += a[headOffset + i * seq + j] * rows[(b * seq + i) * g.Hidden + col];
        output[index] = accumulate != 0 ? output[index] + sum : sum;
    }

    /// <summary>dP[b, h, i, j] = Σ_t dC[b, i, h·d + t]·V[b, j, h·d + t], then ⊙ M with dropout (M = 1/(1 − p) where P' ≠ 0).</summary>
    [GpuKernel]
    internal static void AttentionProbsGradKernel(Index1D index, ArrayView<float> dc, ArrayView<float> v, ArrayView<float> dropped, ArrayView<float> dp,
        int hasDropout, float keep, AttentionGeom g)
    {
        int seq = g.Seq, j = index % seq, i = index / seq % seq, bh = index / (seq * seq);
        int b = bh / g.Heads, h = bh % g.Heads;
        int cOffset = (b * seq + i) * g.Hidden + h * g.HeadDim, vOffset = (b * seq + j) * g.Hidden + h * g.HeadDim;
        float dot = 0f;
        for (int t = 0; t < g.HeadDim; t++) dot += dc[cOffset + t] * v[vOffset + t];
        if (hasDropout != 0) dot = dropped[index] != 0f ? dot * keep : 0f;
        dp[index] = dot;
    }

    /// <summary>One thread per row: dS = P ⊙ (dP − Σ_j P·dP)·scale, in place in dP.</summary>
    [GpuKernel]
    internal static void AttentionSoftmaxBackwardKernel(Index1D row, ArrayView<float> p, ArrayView<float> dp, int n, float scale)
    {
        int offset = row * n;
        float dot = 0f;
        for (int j = 0; j < n; j++) dot += p[offset + j] * dp[offset + j];
        for (int j = 0; j < n; j++) dp[offset + j] = p[offset + j] * (dp[offset + j] - dot) * scale;
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
}
