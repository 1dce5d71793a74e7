using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    // Cache blocks: a KC-deep packed B micro-panel (KC·NR) is reused from L1 across an MC-row packed A block (L2),
    // and a KC×NC packed B block stays in L2. MODELGEN_GEMM_KC/MC/NC override them (for tuning on other processors).
    // K is cut into equal blocks of at most KC (a multiple of 8), so that no short tail block re-reads and re-writes
    // C: transformer widths (K = 384, 768, 1536) run in whole 384-deep blocks.
    private static readonly int KC = Tunable("MODELGEN_GEMM_KC", 384);
    private static readonly int MC = Tunable("MODELGEN_GEMM_MC", 96);
    private static readonly int NC = Tunable("MODELGEN_GEMM_NC", 512);
    // Below this many rows, A·Bᵀ (a Linear layer on a few tokens) runs unpacked as dot products: packing B would read
    // and write every weight once more than the multiplication itself reads it.
    private static readonly int SmallM = Tunable("MODELGEN_GEMM_SMALL_M", 32);

    private static int Tunable(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), out int v) && v > 0 ? v : fallback;

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
        int threads = CpuParallel.ThreadCount;
        long flops = 2L * m * n * k;
        if (typeof(T) == typeof(float) && Path == 512 && transB && !transA && m <= SmallM && k >= 16)
        {
            var dot = new DotJob<T, TEpi>
            {
                A = a, Lda = lda, B = b, Ldb = ldb, C = c, Ldc = ldc, M = m, N = n, K = k, Accumulate = accumulate, Epilogue = epilogue,
            };
            dot.Parts = flops < 400_000 ? 1 : Math.Max(1, Math.Min(threads, (n + 3) / 4));
            if (dot.Parts == 1) dot.Execute(0, 1);
            else CpuParallel.ForParts(dot.Parts, ref dot);
            return;
        }
        var (mr, nr) = TileSize<T>();
        var job = new Job<T, TEpi>
        {
            A = a, Lda = lda, TransA = transA, B = b, Ldb = ldb, TransB = transB, C = c, Ldc = ldc,
            M = m, N = n, K = k, Accumulate = accumulate, Epilogue = epilogue, MR = mr, NR = nr,
        };
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

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
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
            for (int jc = j0; jc < j1; jc += NC) RunBlock(i0, i1, jc, Math.Min(j1, jc + NC));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunBlock(int i0, int i1, int j0, int j1)
        {
            int width = j1 - j0;
            int paddedWidth = (width + NR - 1) / NR * NR;
            T* packB = PackBuffers<T>.B((long)KC * paddedWidth);
            T* packA = PackBuffers<T>.A((long)KC * (MC + MR));
            int kBlocks = (K + KC - 1) / KC;
            int kStep = Math.Min(KC, ((K + kBlocks - 1) / kBlocks + 7) / 8 * 8);
            for (int pc = 0; pc < K; pc += kStep)
            {
                int kc = Math.Min(kStep, K - pc);
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
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
                if (typeof(T) == typeof(float) && MR == 8 && mr == 8 && Avx.IsSupported)
                {
                    // eight rows at a time: 8×8 blocks transposed in registers, so each p gets its 8 values in one store
                    float* src = (float*)(A + (long)(i0 + ir) * Lda + p0);
                    float* d = (float*)panel;
                    int p = 0;
                    for (; p + 8 <= kc; p += 8) Transpose8x8(src + p, Lda, d + p * 8, 8);
                    for (; p < kc; p++)
                        for (int r = 0; r < 8; r++) d[p * 8 + r] = src[(long)r * Lda + p];
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
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
                else if (typeof(T) == typeof(float) && NR == 32 && nr == 32 && Avx.IsSupported)
                {
                    // op(B) = Bᵀ (a Linear layer's [out, in] weight): four groups of eight rows, 8×8 blocks transposed
                    for (int g = 0; g < 32; g += 8)
                    {
                        float* src = (float*)(B + (long)(j0 + jr + g) * Ldb + p0);
                        float* d = (float*)panel + g;
                        int p = 0;
                        for (; p + 8 <= kc; p += 8) Transpose8x8(src + p, Ldb, d + p * 32, 32);
                        for (; p < kc; p++)
                            for (int j = 0; j < 8; j++) d[p * 32 + j] = src[(long)j * Ldb + p];
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

    /// <summary>
    /// Small-M A·Bᵀ (float, AVX-512), unpacked: each 4×4 block of C is sixteen dot products along K over rows of A and
    /// rows of B, both contiguous, so every weight is read once from memory and rows of A stay in L1. Rows and columns
    /// past the edge reuse the last one (computed, not stored).
    /// </summary>
    private struct DotJob<T, TEpi> : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpi : struct, IEpilogue<T>
    {
        public T* A, B, C;
        public int Lda, Ldb, Ldc, M, N, K, Parts;
        public bool Accumulate;
        public TEpi Epilogue;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void Execute(int start, int end)
        {
            int quads = (N + 3) / 4;
            for (int part = start; part < end; part++)
            {
                int q0 = (int)((long)quads * part / Parts), q1 = (int)((long)quads * (part + 1) / Parts);
                for (int q = q0; q < q1; q++)
                    for (int i = 0; i < M; i += 4) Block(i, 4 * q);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Block(int i, int j)
        {
            float* a = (float*)A, b = (float*)B;
            float* a0 = a + (long)i * Lda, a1 = a + (long)Math.Min(i + 1, M - 1) * Lda;
            float* a2 = a + (long)Math.Min(i + 2, M - 1) * Lda, a3 = a + (long)Math.Min(i + 3, M - 1) * Lda;
            float* b0 = b + (long)j * Ldb, b1 = b + (long)Math.Min(j + 1, N - 1) * Ldb;
            float* b2 = b + (long)Math.Min(j + 2, N - 1) * Ldb, b3 = b + (long)Math.Min(j + 3, N - 1) * Ldb;
            Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
            int p = 0;
            // Only the first row block reads these four B rows from memory; the others find them in L1. So that memory
            // stays busy all along, every row block prefetches its share of the next block's four rows (one cache line
            // per row and step): with 16 rows of A, row block r prefetches row r of the next four.
            int blocks = (M + 3) / 4, perBlock = (4 + blocks - 1) / blocks, first = i / 4 * perBlock;
            int prefetchRows = j + 7 < N && first < 4 && Sse.IsSupported ? Math.Min(4, first + perBlock) - first : 0;
            float* next = b + (long)(j + 4 + first) * Ldb;
            long ldb = Ldb;
            for (; p + 16 <= K; p += 16)
            {
                if (prefetchRows > 0)
                {
                    Sse.Prefetch0(next + p);
                    if (prefetchRows > 1)
                    {
                        Sse.Prefetch0(next + ldb + p);
                        if (prefetchRows > 2) { Sse.Prefetch0(next + 2 * ldb + p); Sse.Prefetch0(next + 3 * ldb + p); }
                    }
                }
                var x0 = Vector512.Load(a0 + p); var x1 = Vector512.Load(a1 + p);
                var x2 = Vector512.Load(a2 + p); var x3 = Vector512.Load(a3 + p);
                var y = Vector512.Load(b0 + p);
                c00 = Vector512.FusedMultiplyAdd(x0, y, c00); c10 = Vector512.FusedMultiplyAdd(x1, y, c10);
                c20 = Vector512.FusedMultiplyAdd(x2, y, c20); c30 = Vector512.FusedMultiplyAdd(x3, y, c30);
                y = Vector512.Load(b1 + p);
                c01 = Vector512.FusedMultiplyAdd(x0, y, c01); c11 = Vector512.FusedMultiplyAdd(x1, y, c11);
                c21 = Vector512.FusedMultiplyAdd(x2, y, c21); c31 = Vector512.FusedMultiplyAdd(x3, y, c31);
                y = Vector512.Load(b2 + p);
                c02 = Vector512.FusedMultiplyAdd(x0, y, c02); c12 = Vector512.FusedMultiplyAdd(x1, y, c12);
                c22 = Vector512.FusedMultiplyAdd(x2, y, c22); c32 = Vector512.FusedMultiplyAdd(x3, y, c32);
                y = Vector512.Load(b3 + p);
                c03 = Vector512.FusedMultiplyAdd(x0, y, c03); c13 = Vector512.FusedMultiplyAdd(x1, y, c13);
                c23 = Vector512.FusedMultiplyAdd(x2, y, c23); c33 = Vector512.FusedMultiplyAdd(x3, y, c33);
            }
            var s0 = Sum4(c00, c01, c02, c03);
            var s1 = Sum4(c10, c11, c12, c13);
            var s2 = Sum4(c20, c21, c22, c23);
            var s3 = Sum4(c30, c31, c32, c33);
            int rows = Math.Min(4, M - i), cols = Math.Min(4, N - j);
            if (p < K)
            {
                s0 = AddTail(s0, a0, p, b0, b1, b2, b3); s1 = AddTail(s1, a1, p, b0, b1, b2, b3);
                s2 = AddTail(s2, a2, p, b0, b1, b2, b3); s3 = AddTail(s3, a3, p, b0, b1, b2, b3);
            }
            Store(s0, i, j, cols);
            if (rows > 1) Store(s1, i + 1, j, cols);
            if (rows > 2) Store(s2, i + 2, j, cols);
            if (rows > 3) Store(s3, i + 3, j, cols);
        }

        // the K tail past the last full vector (K not a multiple of 16)
        private readonly Vector128<float> AddTail(Vector128<float> sums, float* aRow, int p0, float* b0, float* b1, float* b2, float* b3)
        {
            float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
            for (int p = p0; p < K; p++)
            {
                float x = aRow[p];
                t0 += x * b0[p]; t1 += x * b1[p]; t2 += x * b2[p]; t3 += x * b3[p];
            }
            return sums + Vector128.Create(t0, t1, t2, t3);
        }

        // adds the existing C (accumulate), applies the epilogue and stores one row's (up to) four results
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(Vector128<float> sums, int row, int j, int cols)
        {
            float* c = (float*)C + (long)row * Ldc + j;
            if (cols == 4)
            {
                if (Accumulate) sums += Vector128.Load(c);
                c[0] = Apply(sums.GetElement(0), row, j);
                c[1] = Apply(sums.GetElement(1), row, j + 1);
                c[2] = Apply(sums.GetElement(2), row, j + 2);
                c[3] = Apply(sums.GetElement(3), row, j + 3);
                return;
            }
            for (int q = 0; q < cols; q++) c[q] = Apply(sums.GetElement(q) + (Accumulate ? c[q] : 0f), row, j + q);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private float Apply(float value, int row, int col) => Unsafe.BitCast<T, float>(Epilogue.Apply(Unsafe.BitCast<float, T>(value), row, col));

        /// <summary>The four horizontal sums of v0…v3 as one vector: halve to 256 bits, then three horizontal adds.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<float> Sum4(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
        {
            var h0 = v0.GetLower() + v0.GetUpper();
            var h1 = v1.GetLower() + v1.GetUpper();
            var h2 = v2.GetLower() + v2.GetUpper();
            var h3 = v3.GetLower() + v3.GetUpper();
            var s = Avx.HorizontalAdd(Avx.HorizontalAdd(h0, h1), Avx.HorizontalAdd(h2, h3));
            return s.GetLower() + s.GetUpper();
        }
    }

    /// <summary>dst[q·dstLd + r] = src[r·ld + q] for an 8×8 block of floats (unpack, shuffle, lane permute).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int ld, float* dst, int dstLd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2L * ld);
        var r3 = Avx.LoadVector256(src + 3L * ld);
        var r4 = Avx.LoadVector256(src + 4L * ld);
        var r5 = Avx.LoadVector256(src + 5L * ld);
        var r6 = Avx.LoadVector256(src + 6L * ld);
        var r7 = Avx.LoadVector256(src + 7L * ld);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstLd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstLd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstLd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstLd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstLd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstLd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstLd, Avx.Permute2x128(u3, u7, 0x31));
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
