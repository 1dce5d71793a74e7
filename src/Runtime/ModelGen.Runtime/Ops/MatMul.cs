using System.Numerics;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>
/// MatMul with torch.matmul semantics (1-D·1-D → scalar; a 1-D operand gets a 1 prepended (a) or appended (b), removed
/// again from the result; batch dims broadcast) and its backward; CPU only for now. Every batch matrix is one
/// <see cref="CpuGemm"/> call (transposes absorbed by its packing). When b has no batch (x·W), the batch folds into the
/// rows of one large GEMM. Otherwise many small GEMMs run in parallel over batches, one GEMM per part: a GEMM called
/// from a worker of <see cref="CpuParallel"/> runs single-threaded (CpuParallel.For runs inline inside a parallel
/// region), so the small GEMMs of e.g. [32, 12, 128, 32]·[32, 12, 32, 128] do not each fan out.
/// </summary>
public static unsafe partial class Ops
{
    private const int MaxBatchRank = 32;

    /// <summary>The shape of torch.matmul(a, b).</summary>
    public static Shape MatMulShape(Shape a, Shape b)
    {
        Span<int> outBatch = stackalloc int[MaxBatchRank];
        Span<int> aBatch = stackalloc int[MaxBatchRank];
        Span<int> bBatch = stackalloc int[MaxBatchRank];
        MatMulGeometry(a, b, outBatch, aBatch, bBatch, out int rank, out int m, out _, out int n);
        var dims = new List<int>(rank + 2);
        for (int i = 0; i < rank; i++) dims.Add(outBatch[i]);
        if (a.Rank > 1) dims.Add(m);
        if (b.Rank > 1) dims.Add(n);
        return new Shape(dims.ToArray());
    }

    /// <summary>y = a·b (torch.matmul); y holds MatMulShape(a, b).</summary>
    public static void MatMul<T>(Tensor a, Tensor b, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("MatMul", a);
        RequireCpu("MatMul", b);
        RequireCpu("MatMul", y);
        int* outBatch = stackalloc int[MaxBatchRank];
        int* aBatch = stackalloc int[MaxBatchRank];
        int* bBatch = stackalloc int[MaxBatchRank];
        MatMulGeometry(a.Shape, b.Shape, new Span<int>(outBatch, MaxBatchRank), new Span<int>(aBatch, MaxBatchRank), new Span<int>(bBatch, MaxBatchRank),
            out int rank, out int m, out int k, out int n);
        var job = new MatMulJob<T>(a.Ptr<T>(), b.Ptr<T>(), y.Ptr<T>(), m, k, n, rank, outBatch, aBatch, bBatch);
        CheckCount("MatMul", y, (int)Math.Min(int.MaxValue, (long)job.Batches * m * n), "y");
        KernelStats.Record("matmul");
        if (job.Batches == 0) return;
        if (job.BCount == 1 && job.ACount == job.Batches)
        {
            // b is one matrix: the batch of a folds into the rows of one GEMM [batches·m, k]·[k, n]
            CpuGemm.Run(job.A, k, false, job.B, n, false, job.Y, n, job.Batches * m, n, k, false, default(NoEpilogue<T>));
            return;
        }
        job.Mode = MatMulMode.Forward;
        job.Run(job.Batches);
    }

    /// <summary>
    /// da (+)= dy·bᵀ and db (+)= aᵀ·dy, each summed over the batch dims its operand was broadcast along.
    /// Derivation: with out[β] = a[α(β)] · b[γ(β)] for every output batch index β (α(β) sets the dims where a has size 1
    /// to 0, γ likewise for b), the loss L has ∂L/∂a[α] = Σ_{β : α(β) = α} ∂L/∂out[β] · b[γ(β)]ᵀ, since a[α] enters every
    /// such out[β] linearly (out = a·b ⇒ d out = da·b, and ⟨dy, da·b⟩ = ⟨dy·bᵀ, da⟩); likewise
    /// ∂L/∂b[γ] = Σ_{β : γ(β) = γ} a[α(β)]ᵀ · ∂L/∂out[β]. The β mapping to one α are α's kept indices combined with every
    /// index of the broadcast dims (B/|a's batch| of them), so each da matrix is one GEMM per β (the first overwrites
    /// unless accumulating, the others add), and different da matrices are independent (parallel over them). A 1-D
    /// operand is the [1, k] (a) or [k, 1] (b) matrix, whose gradient has the same memory as its vector.
    /// </summary>
    public static void MatMulBackward<T>(Tensor a, Tensor b, Tensor dy, Tensor? da, bool accumulateA, Tensor? db, bool accumulateB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("MatMulBackward", a);
        RequireCpu("MatMulBackward", b);
        RequireCpu("MatMulBackward", dy);
        int* outBatch = stackalloc int[MaxBatchRank];
        int* aBatch = stackalloc int[MaxBatchRank];
        int* bBatch = stackalloc int[MaxBatchRank];
        MatMulGeometry(a.Shape, b.Shape, new Span<int>(outBatch, MaxBatchRank), new Span<int>(aBatch, MaxBatchRank), new Span<int>(bBatch, MaxBatchRank),
            out int rank, out int m, out int k, out int n);
        var job = new MatMulJob<T>(a.Ptr<T>(), b.Ptr<T>(), dy.Ptr<T>(), m, k, n, rank, outBatch, aBatch, bBatch);
        CheckCount("MatMulBackward", dy, (int)Math.Min(int.MaxValue, (long)job.Batches * m * n), "dy");
        KernelStats.Record("matmul-backward");
        bool fold = job.BCount == 1 && job.ACount == job.Batches && job.Batches > 0;
        if (da is not null)
        {
            RequireCpu("MatMulBackward", da);
            CheckCount("MatMulBackward", da, a.Count, "da");
            if (fold)
                CpuGemm.Run(job.Y, n, false, job.B, n, true, da.Ptr<T>(), k, job.Batches * m, k, n, accumulateA, default(NoEpilogue<T>));
            else
            {
                job.Mode = MatMulMode.GradA;
                job.Grad = da.Ptr<T>();
                job.Accumulate = accumulateA;
                job.Run(job.ACount);
            }
        }
        if (db is not null)
        {
            RequireCpu("MatMulBackward", db);
            CheckCount("MatMulBackward", db, b.Count, "db");
            if (fold)
                CpuGemm.Run(job.A, k, true, job.Y, n, false, db.Ptr<T>(), n, k, n, job.Batches * m, accumulateB, default(NoEpilogue<T>));
            else
            {
                job.Mode = MatMulMode.GradB;
                job.Grad = db.Ptr<T>();
                job.Accumulate = accumulateB;
                job.Run(job.BCount);
            }
        }
    }

    /// <summary>Checks a·b and writes the broadcast batch dims (out, and a's and b's padded on the left with 1s) and m, k, n
    /// (a 1-D a is [1, k], a 1-D b is [k, 1]).</summary>
    private static void MatMulGeometry(Shape a, Shape b, Span<int> outBatch, Span<int> aBatch, Span<int> bBatch,
        out int rank, out int m, out int k, out int n)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ShapeMismatchException($"MatMul: a {a} and b {b}: both operands need at least one dimension (a scalar multiplies element-wise).");
        m = a.Rank == 1 ? 1 : a[-2];
        k = a[-1];
        int kb = b.Rank == 1 ? b[0] : b[-2];
        n = b.Rank == 1 ? 1 : b[-1];
        if (k != kb) throw new ShapeMismatchException($"MatMul: a {a} and b {b}: inner dimensions {k} and {kb} differ");
        int ra = Math.Max(0, a.Rank - 2), rb = Math.Max(0, b.Rank - 2);
        rank = Math.Max(ra, rb);
        if (rank > MaxBatchRank) throw new ShapeMismatchException($"MatMul: a {a} and b {b}: more than {MaxBatchRank} batch dimensions.");
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - ra) >= 0 ? a[i - (rank - ra)] : 1;
            int db = i - (rank - rb) >= 0 ? b[i - (rank - rb)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ShapeMismatchException($"MatMul: a {a} and b {b}: batch dimensions {Shape.Format(a.Dims[..ra])} and {Shape.Format(b.Dims[..rb])} do not broadcast ({da} and {db} at batch dim {i})");
            aBatch[i] = da;
            bBatch[i] = db;
            outBatch[i] = da == 1 ? db : da;
        }
    }

    private enum MatMulMode { Forward, GradA, GradB }

    /// <summary>The batch loops of MatMul and its backward: Y is the product (forward) or dy (backward); an item is an
    /// output batch (Forward), a matrix of a (GradA) or of b (GradB).</summary>
    private struct MatMulJob<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* A, B, Y, Grad;
        public int M, K, N, Rank, Batches, ACount, BCount;
        public int* OutBatch, ABatch, BBatch;
        public MatMulMode Mode;
        public bool Accumulate;

        public MatMulJob(T* a, T* b, T* y, int m, int k, int n, int rank, int* outBatch, int* aBatch, int* bBatch)
        {
            A = a; B = b; Y = y; M = m; K = k; N = n; Rank = rank; OutBatch = outBatch; ABatch = aBatch; BBatch = bBatch;
            long batches = 1, ac = 1, bc = 1;
            for (int i = 0; i < rank; i++) { batches *= outBatch[i]; ac *= aBatch[i]; bc *= bBatch[i]; }
            Batches = (int)batches; ACount = (int)ac; BCount = (int)bc;
        }

        /// <summary>Runs the items: in parallel (single-threaded GEMMs) when there are several and each is small or
        /// there are enough to fill the threads; else one after the other, each GEMM threading itself.</summary>
        public void Run(int items)
        {
            if (items <= 0) return;
            long flopsPerGemm = 2L * M * N * K;
            int threads = CpuParallel.ThreadCount;
            if (items >= 2 && threads > 1 && (items >= threads || flopsPerGemm < 4_000_000)) CpuParallel.For(items, 1, ref this);
            else Execute(0, items);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            long mk = (long)M * K, kn = (long)K * N, mn = (long)M * N;
            for (int item = start; item < end; item++)
            {
                switch (Mode)
                {
                    case MatMulMode.Forward:
                    {
                        Locate(item, out long ai, out long bi);
                        CpuGemm.Run(A + ai * mk, K, false, B + bi * kn, N, false, Y + item * mn, N, M, N, K, false, default(NoEpilogue<T>));
                        break;
                    }
                    case MatMulMode.GradA:
                    {
                        // da[item] (+)= Σ_β dy[β]·b[γ(β)]ᵀ over the β that map to this matrix of a
                        int contributions = ACount == 0 ? 0 : Batches / ACount;
                        T* g = Grad + item * mk;
                        if (contributions == 0 && !Accumulate) new Span<T>(g, (int)mk).Clear();
                        for (int r = 0; r < contributions; r++)
                        {
                            Compose(item, r, ABatch, out long beta, out long other, BBatch);
                            CpuGemm.Run(Y + beta * mn, N, false, B + other * kn, N, true, g, K, M, K, N, Accumulate || r > 0, default(NoEpilogue<T>));
                        }
                        break;
                    }
                    default:
                    {
                        // db[item] (+)= Σ_β a[α(β)]ᵀ·dy[β] over the β that map to this matrix of b
                        int contributions = BCount == 0 ? 0 : Batches / BCount;
                        T* g = Grad + item * kn;
                        if (contributions == 0 && !Accumulate) new Span<T>(g, (int)kn).Clear();
                        for (int r = 0; r < contributions; r++)
                        {
                            Compose(item, r, BBatch, out long beta, out long other, ABatch);
                            CpuGemm.Run(A + other * mk, K, true, Y + beta * mn, N, false, g, N, K, N, M, Accumulate || r > 0, default(NoEpilogue<T>));
                        }
                        break;
                    }
                }
            }
        }

        /// <summary>Output batch β → the matrices of a and b it multiplies (a size-1 batch dim of an operand reads index 0).</summary>
        private readonly void Locate(int beta, out long ai, out long bi)
        {
            ai = 0; bi = 0;
            long aStride = 1, bStride = 1;
            int rest = beta;
            for (int d = Rank - 1; d >= 0; d--)
            {
                int size = OutBatch[d], idx = rest % size;
                rest /= size;
                if (ABatch[d] != 1) ai += idx * aStride;
                if (BBatch[d] != 1) bi += idx * bStride;
                aStride *= ABatch[d];
                bStride *= BBatch[d];
            }
        }

        /// <summary>The r-th output batch β that maps to matrix <paramref name="own"/> of the operand with batch dims
        /// <paramref name="ownBatch"/>: its kept dims read own's index, its broadcast dims (size 1 there, larger in the
        /// output) read r's; also the matrix of the other operand that β multiplies.</summary>
        private readonly void Compose(int own, int r, int* ownBatch, out long beta, out long other, int* otherBatch)
        {
            beta = 0; other = 0;
            long outStride = 1, otherStride = 1;
            int ownRest = own, rRest = r;
            for (int d = Rank - 1; d >= 0; d--)
            {
                int size = OutBatch[d], idx;
                if (ownBatch[d] == size) { idx = ownRest % size; ownRest /= size; }
                else { idx = rRest % size; rRest /= size; }
                beta += idx * outStride;
                if (otherBatch[d] != 1) other += idx * otherStride;
                outStride *= size;
                otherStride *= otherBatch[d];
            }
        }
    }
}

public abstract partial class Module
{
    /// <summary>The matrix product with <c>torch.matmul</c>'s rules: 1-D operands are vectors, batch dimensions broadcast.</summary>
    protected static Tensor MatMul(Tensor a, Tensor b) => throw Dsl.OutsideForward(nameof(MatMul));
}
