using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>
/// The CPU engine's GEMM: C = epi(op(A)·op(B) [+ C]), row-major, with op = transpose or not. BLIS-style: A and B are
/// packed into MR-row and NR-column panels per KC-deep block (transposes are absorbed by the packing), then an
/// MR×NR register-tiled micro-kernel runs over the panels (Vector512: 8×2 vectors; Vector256: 6×2 vectors; scalar 4×4).
/// The epilogue runs once per element when the last K block is stored. Work is split over column panels (or rows,
/// when N is narrow) across the engine's threads, each with its own packing buffers.
/// </summary>
public static unsafe class CpuGemm
{
    private const int KC = 256;
    private const int MC = 96;

    internal static int Path => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0;

    /// <param name="a">op(A) is [m,k]: A is [m,k] (lda ≥ k) or, when <paramref name="transA"/>, [k,m] (lda ≥ m).</param>
    /// <param name="b">op(B) is [k,n]: B is [k,n] (ldb ≥ n) or, when <paramref name="transB"/>, [n,k] (ldb ≥ k).</param>
    /// <param name="accumulate">Add to the existing C (gradient accumulation) instead of overwriting it.</param>
    public static void Run<T, TEpi>(T* a, int lda, bool transA, T* b, int ldb, bool transB, T* c, int ldc,
        int m, int n, int k, bool accumulate, TEpi epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        if (m <= 0 || n <= 0) return;
        KernelStats.Record("gemm");
        if (k <= 0)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    c[i * ldc + j] = epilogue.Apply(accumulate ? c[i * ldc + j] : T.Zero, i, j);
            return;
        }
        var (mr, nr) = TileSize<T>();
        var job = new Job<T, TEpi>
        {
            A = a, Lda = lda, TransA = transA, B = b, Ldb = ldb, TransB = transB, C = c, Ldc = ldc,
            M = m, N = n, K = k, Accumulate = accumulate, Epilogue = epilogue, MR = mr, NR = nr,
        };
        int threads = CpuParallel.ThreadCount;
        long flops = 2L * m * n * k;
        int panelsN = (n + nr - 1) / nr, panelsM = (m + mr - 1) / mr;
        int parts = flops < 400_000 ? 1 : threads;
        job.SplitN = panelsN >= 2 * threads || panelsN >= panelsM;
        job.Parts = Math.Max(1, Math.Min(parts, job.SplitN ? panelsN : panelsM));
        if (job.Parts == 1) job.Execute(0, 1);
        else CpuParallel.ForParts(job.Parts, ref job);
    }

    private static (int Mr, int Nr) TileSize<T>() where T : unmanaged
        => Path switch
        {
            512 => (8, 2 * Vector512<T>.Count),
            256 => (6, 2 * Vector256<T>.Count),
            _ => (4, 4),
        };

    private struct Job<T, TEpi> : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        public T* A, B, C;
        public int Lda, Ldb, Ldc, M, N, K, MR, NR, Parts;
        public bool TransA, TransB, Accumulate, SplitN;
        public TEpi Epilogue;

        public void Execute(int start, int end)
        {
            for (int part = start; part < end; part++)
            {
                if (SplitN)
                {
                    int panels = (N + NR - 1) / NR;
                    int p0 = (int)((long)panels * part / Parts), p1 = (int)((long)panels * (part + 1) / Parts);
                    if (p1 > p0) RunRange(0, M, p0 * NR, Math.Min(N, p1 * NR));
                }
                else
                {
                    int panels = (M + MR - 1) / MR;
                    int p0 = (int)((long)panels * part / Parts), p1 = (int)((long)panels * (part + 1) / Parts);
                    if (p1 > p0) RunRange(p0 * MR, Math.Min(M, p1 * MR), 0, N);
                }
            }
        }

        private void RunRange(int i0, int i1, int j0, int j1)
        {
            int width = j1 - j0;
            int paddedWidth = (width + NR - 1) / NR * NR;
            T* packB = PackBuffers<T>.B((long)KC * paddedWidth);
            T* packA = PackBuffers<T>.A((long)KC * (MC + MR));
            for (int pc = 0; pc < K; pc += KC)
            {
                int kc = Math.Min(KC, K - pc);
                bool first = pc == 0, last = pc + kc >= K;
                bool loadC = Accumulate || !first;
                PackB(packB, pc, kc, j0, width);
                for (int ic = i0; ic < i1; ic += MC)
                {
                    int mc = Math.Min(MC, i1 - ic);
                    PackA(packA, ic, mc, pc, kc);
                    for (int jr = 0; jr < width; jr += NR)
                    {
                        int nr = Math.Min(NR, width - jr);
                        T* bp = packB + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            int mr = Math.Min(MR, mc - ir);
                            T* ap = packA + (long)ir * kc;
                            T* cTile = C + (long)(ic + ir) * Ldc + j0 + jr;
                            switch (Path)
                            {
                                case 512: Micro512(kc, ap, bp, cTile, Ldc, mr, nr, loadC, last, ic + ir, j0 + jr, ref Epilogue); break;
                                case 256: Micro256(kc, ap, bp, cTile, Ldc, mr, nr, loadC, last, ic + ir, j0 + jr, ref Epilogue); break;
                                default: MicroScalar(kc, ap, bp, cTile, Ldc, mr, nr, loadC, last, ic + ir, j0 + jr, ref Epilogue); break;
                            }
                        }
                    }
                }
            }
        }

        // packed A: per MR-row panel, for each p: MR values (zero padded)
        private readonly void PackA(T* dst, int i0, int mc, int p0, int kc)
        {
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                T* panel = dst + (long)ir * kc;
                if (TransA)
                {
                    // op(A) = Aᵀ: the MR values a panel needs at depth p are contiguous in storage row p0 + p
                    T* src = A + (long)p0 * Lda + i0 + ir;
                    for (int p = 0; p < kc; p++)
                    {
                        T* s = src + (long)p * Lda;
                        T* d = panel + p * MR;
                        int r = 0;
                        for (; r < mr; r++) d[r] = s[r];
                        for (; r < MR; r++) d[r] = T.Zero;
                    }
                    continue;
                }
                for (int r = 0; r < MR; r++)
                {
                    if (r >= mr)
                    {
                        for (int p = 0; p < kc; p++) panel[p * MR + r] = T.Zero;
                        continue;
                    }
                    T* src = A + (long)(i0 + ir + r) * Lda + p0;
                    for (int p = 0; p < kc; p++) panel[p * MR + r] = src[p];
                }
            }
        }

        // packed B: per NR-column panel, for each p: NR values (zero padded)
        private readonly void PackB(T* dst, int p0, int kc, int j0, int width)
        {
            for (int jr = 0; jr < width; jr += NR)
            {
                int nr = Math.Min(NR, width - jr);
                T* panel = dst + (long)jr * kc;
                if (!TransB)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        T* src = B + (long)(p0 + p) * Ldb + j0 + jr;
                        T* d = panel + p * NR;
                        if (nr == NR) Unsafe.CopyBlockUnaligned(d, src, (uint)(NR * sizeof(T)));
                        else
                        {
                            for (int j = 0; j < nr; j++) d[j] = src[j];
                            for (int j = nr; j < NR; j++) d[j] = T.Zero;
                        }
                    }
                }
                else
                {
                    for (int j = 0; j < NR; j++)
                    {
                        if (j >= nr)
                        {
                            for (int p = 0; p < kc; p++) panel[p * NR + j] = T.Zero;
                            continue;
                        }
                        T* src = B + (long)(j0 + jr + j) * Ldb + p0;
                        for (int p = 0; p < kc; p++) panel[p * NR + j] = src[p];
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        return Vector512.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        return Vector256.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
    }

    [SkipLocalsInit]
    private static void Micro512<T, TEpi>(int kc, T* ap, T* bp, T* c, int ldc, int mr, int nr, bool loadC, bool last, int row0, int col0, ref TEpi epi)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + w);
            Vector512<T> a;
            a = Vector512.Create(ap[0]); c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01);
            a = Vector512.Create(ap[1]); c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11);
            a = Vector512.Create(ap[2]); c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21);
            a = Vector512.Create(ap[3]); c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31);
            a = Vector512.Create(ap[4]); c40 = Fma(a, b0, c40); c41 = Fma(a, b1, c41);
            a = Vector512.Create(ap[5]); c50 = Fma(a, b0, c50); c51 = Fma(a, b1, c51);
            a = Vector512.Create(ap[6]); c60 = Fma(a, b0, c60); c61 = Fma(a, b1, c61);
            a = Vector512.Create(ap[7]); c70 = Fma(a, b0, c70); c71 = Fma(a, b1, c71);
            ap += 8;
            bp += 2 * w;
        }
        if (mr == 8 && nr == 2 * w)
        {
            Store512(c, c00, c01, loadC, last, row0, col0, ref epi); c += ldc;
            Store512(c, c10, c11, loadC, last, row0 + 1, col0, ref epi); c += ldc;
            Store512(c, c20, c21, loadC, last, row0 + 2, col0, ref epi); c += ldc;
            Store512(c, c30, c31, loadC, last, row0 + 3, col0, ref epi); c += ldc;
            Store512(c, c40, c41, loadC, last, row0 + 4, col0, ref epi); c += ldc;
            Store512(c, c50, c51, loadC, last, row0 + 5, col0, ref epi); c += ldc;
            Store512(c, c60, c61, loadC, last, row0 + 6, col0, ref epi); c += ldc;
            Store512(c, c70, c71, loadC, last, row0 + 7, col0, ref epi);
            return;
        }
        T* tile = stackalloc T[8 * 2 * w];
        int ld = 2 * w;
        c00.Store(tile); c01.Store(tile + w); c10.Store(tile + ld); c11.Store(tile + ld + w);
        c20.Store(tile + 2 * ld); c21.Store(tile + 2 * ld + w); c30.Store(tile + 3 * ld); c31.Store(tile + 3 * ld + w);
        c40.Store(tile + 4 * ld); c41.Store(tile + 4 * ld + w); c50.Store(tile + 5 * ld); c51.Store(tile + 5 * ld + w);
        c60.Store(tile + 6 * ld); c61.Store(tile + 6 * ld + w); c70.Store(tile + 7 * ld); c71.Store(tile + 7 * ld + w);
        StoreTile(tile, ld, c, ldc, mr, nr, loadC, last, row0, col0, ref epi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512<T, TEpi>(T* c, Vector512<T> v0, Vector512<T> v1, bool loadC, bool last, int row, int col0, ref TEpi epi)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        int w = Vector512<T>.Count;
        if (loadC)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + w);
        }
        if (last)
        {
            v0 = epi.Apply(v0, row, col0);
            v1 = epi.Apply(v1, row, col0 + w);
        }
        v0.Store(c);
        v1.Store(c + w);
    }

    [SkipLocalsInit]
    private static void Micro256<T, TEpi>(int kc, T* ap, T* bp, T* c, int ldc, int mr, int nr, bool loadC, bool last, int row0, int col0, ref TEpi epi)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + w);
            Vector256<T> a;
            a = Vector256.Create(ap[0]); c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01);
            a = Vector256.Create(ap[1]); c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11);
            a = Vector256.Create(ap[2]); c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21);
            a = Vector256.Create(ap[3]); c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31);
            a = Vector256.Create(ap[4]); c40 = Fma(a, b0, c40); c41 = Fma(a, b1, c41);
            a = Vector256.Create(ap[5]); c50 = Fma(a, b0, c50); c51 = Fma(a, b1, c51);
            ap += 6;
            bp += 2 * w;
        }
        int ld = 2 * w;
        T* tile = stackalloc T[6 * 2 * w];
        c00.Store(tile); c01.Store(tile + w); c10.Store(tile + ld); c11.Store(tile + ld + w);
        c20.Store(tile + 2 * ld); c21.Store(tile + 2 * ld + w); c30.Store(tile + 3 * ld); c31.Store(tile + 3 * ld + w);
        c40.Store(tile + 4 * ld); c41.Store(tile + 4 * ld + w); c50.Store(tile + 5 * ld); c51.Store(tile + 5 * ld + w);
        if (mr == 6 && nr == 2 * w)
        {
            for (int r = 0; r < 6; r++)
            {
                T* row = c + (long)r * ldc;
                var v0 = Vector256.Load(tile + r * ld);
                var v1 = Vector256.Load(tile + r * ld + w);
                if (loadC) { v0 += Vector256.Load(row); v1 += Vector256.Load(row + w); }
                if (last) { v0 = epi.Apply(v0, row0 + r, col0); v1 = epi.Apply(v1, row0 + r, col0 + w); }
                v0.Store(row);
                v1.Store(row + w);
            }
            return;
        }
        StoreTile(tile, ld, c, ldc, mr, nr, loadC, last, row0, col0, ref epi);
    }

    [SkipLocalsInit]
    private static void MicroScalar<T, TEpi>(int kc, T* ap, T* bp, T* c, int ldc, int mr, int nr, bool loadC, bool last, int row0, int col0, ref TEpi epi)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        T* tile = stackalloc T[16];
        for (int i = 0; i < 16; i++) tile[i] = T.Zero;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < 4; r++)
            {
                T av = ap[r];
                for (int j = 0; j < 4; j++) tile[r * 4 + j] += av * bp[j];
            }
            ap += 4;
            bp += 4;
        }
        StoreTile(tile, 4, c, ldc, mr, nr, loadC, last, row0, col0, ref epi);
    }

    private static void StoreTile<T, TEpi>(T* tile, int ld, T* c, int ldc, int mr, int nr, bool loadC, bool last, int row0, int col0, ref TEpi epi)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        for (int r = 0; r < mr; r++)
        {
            T* row = c + (long)r * ldc;
            for (int j = 0; j < nr; j++)
            {
                T v = tile[r * ld + j];
                if (loadC) v += row[j];
                if (last) v = epi.Apply(v, row0 + r, col0 + j);
                row[j] = v;
            }
        }
    }

    /// <summary>Per-thread packing buffers, grown on demand and kept (no allocation per call after warm-up).</summary>
    private static class PackBuffers<T> where T : unmanaged
    {
        [ThreadStatic] private static T* _a, _b;
        [ThreadStatic] private static long _aCap, _bCap;

        public static T* A(long count) => Ensure(ref _a, ref _aCap, count);
        public static T* B(long count) => Ensure(ref _b, ref _bCap, count);

        private static T* Ensure(ref T* buffer, ref long capacity, long count)
        {
            if (count > capacity)
            {
                if (buffer != null) NativeMemory.AlignedFree(buffer);
                buffer = (T*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(T)), 64);
                capacity = count;
            }
            return buffer;
        }
    }
}
