using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>Multi-head self-attention's runtime routines: shape rule, CPU forward and backward with probability dropout; its ILGPU form goes here too (generator rule: src/Generators/Ops/Attention.cs).</summary>
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
}
