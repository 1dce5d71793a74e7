using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>
/// Permute (and Transpose, a Permute that swaps two dims), materialised contiguous, and its backward; CPU only for now.
/// The permutation is first simplified: dimensions of size 1 are dropped and output dimensions that are consecutive in
/// the input are merged, so that [B, H, T, D] → [B, T, H, D] becomes [B, H, T, D] rows of D, and [A, B, C] → [C, A, B]
/// becomes a 2-D transpose of [A·B, C]. Then one of three loops runs on the engine's threads: row copies when the last
/// dimension stays last, a tiled (32×32) transpose of the last two dims under batch dims, or a strided gather.
/// </summary>
public static unsafe partial class Ops
{
    private const int MaxPermuteRank = 32;

    /// <summary>The shape of x.permute(dims): dims must be a permutation of 0..rank−1 (negative dims count from the end).</summary>
    public static Shape PermuteShape(Shape x, int[] dims)
    {
        Span<int> perm = stackalloc int[Math.Min(MaxPermuteRank, Math.Max(1, dims.Length))];
        ResolvePermutation("Permute", x, dims, perm);
        var result = new int[x.Rank];
        for (int i = 0; i < result.Length; i++) result[i] = x[perm[i]];
        return new Shape(result);
    }

    /// <summary>y = x.permute(dims), contiguous.</summary>
    public static void Permute<T>(Tensor x, Tensor y, int[] dims) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("Permute", x);
        RequireCpu("Permute", y);
        Span<int> perm = stackalloc int[Math.Min(MaxPermuteRank, Math.Max(1, dims.Length))];
        ResolvePermutation("Permute", x.Shape, dims, perm);
        CheckCount("Permute", y, x.Count, "y");
        KernelStats.Record("permute");
        PermuteCore(x.Ptr<T>(), x.Shape.Dims, y.Ptr<T>(), perm[..x.Shape.Rank], accumulate: false);
    }

    /// <summary>dx (+)= dy permuted by the inverse of <paramref name="dims"/> (dims as given to the forward, about dx's dims).</summary>
    public static void PermuteBackward<T>(Tensor dy, Tensor dx, int[] dims, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("PermuteBackward", dy);
        RequireCpu("PermuteBackward", dx);
        int rank = dx.Shape.Rank;
        Span<int> perm = stackalloc int[Math.Min(MaxPermuteRank, Math.Max(1, dims.Length))];
        ResolvePermutation("PermuteBackward", dx.Shape, dims, perm);
        CheckCount("PermuteBackward", dy, dx.Count, "dy");
        KernelStats.Record("permute-backward");
        // dy has dims dx[perm[i]]; dx dim perm[i] is dy dim i, so dx = dy.permute(inverse), inverse[perm[i]] = i
        Span<int> dyDims = stackalloc int[Math.Max(1, rank)];
        Span<int> inverse = stackalloc int[Math.Max(1, rank)];
        for (int i = 0; i < rank; i++)
        {
            dyDims[i] = dx.Shape[perm[i]];
            inverse[perm[i]] = i;
        }
        PermuteCore(dy.Ptr<T>(), dyDims[..rank], dx.Ptr<T>(), inverse[..rank], accumulate);
    }

    /// <summary>Checks dims against x's rank (length, range, no repeats) and writes the normalised permutation.</summary>
    private static void ResolvePermutation(string op, Shape x, int[] dims, Span<int> perm)
    {
        int rank = x.Rank;
        if (dims.Length != rank)
            throw new ShapeMismatchException($"{op}: dims {Shape.Format(dims)} for x {x}: expected {rank} dims, a permutation of 0..{rank - 1}.");
        if (rank > MaxPermuteRank) throw new ShapeMismatchException($"{op}: x {x} has rank {rank}, more than {MaxPermuteRank}.");
        uint seen = 0;
        for (int i = 0; i < rank; i++)
        {
            int d = NormalizeDim(dims[i], rank, op);
            if ((seen & (1u << d)) != 0)
                throw new ShapeMismatchException($"{op}: dims {Shape.Format(dims)} for x {x} are not a permutation of 0..{rank - 1}: dim {d} appears twice.");
            seen |= 1u << d;
            perm[i] = d;
        }
    }

    /// <summary>dst (+)= src.permute(perm) for a contiguous src of dims <paramref name="srcDims"/>: dst dim i is src dim perm[i].</summary>
    internal static void PermuteCore<T>(T* src, ReadOnlySpan<int> srcDims, T* dst, ReadOnlySpan<int> perm, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rank = srcDims.Length;
        long count = 1;
        foreach (var d in srcDims) count *= d;
        if (count == 0) return;

        // 1. drop the dims of size 1 (they do not move any element)
        Span<int> index = stackalloc int[Math.Max(1, rank)];
        Span<int> dims1 = stackalloc int[Math.Max(1, rank)];
        Span<int> perm1 = stackalloc int[Math.Max(1, rank)];
        int r1 = 0;
        for (int i = 0; i < rank; i++)
        {
            index[i] = r1;
            if (srcDims[i] != 1) dims1[r1++] = srcDims[i];
        }
        int q = 0;
        for (int i = 0; i < rank; i++)
            if (srcDims[perm[i]] != 1) perm1[q++] = index[perm[i]];

        // 2. merge runs of output dims that are consecutive in src: each run becomes one dim
        Span<int> runStart = stackalloc int[Math.Max(1, r1)];   // per run (output order): its first src dim
        Span<int> runLength = stackalloc int[Math.Max(1, r1)];
        int runs = 0;
        for (int i = 0; i < r1; i++)
        {
            if (runs > 0 && perm1[i] == runStart[runs - 1] + runLength[runs - 1]) runLength[runs - 1]++;
            else { runStart[runs] = perm1[i]; runLength[runs] = 1; runs++; }
        }
        // the runs in src order give the merged src dims; a run's rank there is its merged src index
        Span<int> sd = stackalloc int[Math.Max(1, runs)];
        Span<int> p = stackalloc int[Math.Max(1, runs)];
        for (int g = 0; g < runs; g++)
        {
            int before = 0;
            for (int h = 0; h < runs; h++) if (runStart[h] < runStart[g]) before++;
            long size = 1;
            for (int t = 0; t < runLength[g]; t++) size *= dims1[runStart[g] + t];
            sd[before] = (int)size;
            p[g] = before;
        }
        int r = runs;

        if (r <= 1)
        {
            CopyOrAdd(src, dst, (int)count, accumulate);
            return;
        }
        // merged src strides
        Span<long> stride = stackalloc long[r];
        stride[r - 1] = 1;
        for (int i = r - 2; i >= 0; i--) stride[i] = stride[i + 1] * sd[i + 1];

        bool swapLastTwo = p[r - 1] == r - 2 && p[r - 2] == r - 1;
        for (int i = 0; i < r - 2 && swapLastTwo; i++) swapLastTwo = p[i] == i;
        // after merging, leading identity dims are already one dim: [B, R, C] → [B, C, R] or [R, C] → [C, R]
        if (swapLastTwo && r <= 3)
        {
            var t = new TransposeBody<T>
            {
                Src = src, Dst = dst, Batches = r == 3 ? sd[0] : 1, R = sd[r - 2], C = sd[r - 1], Accumulate = accumulate,
            };
            t.RowTiles = (t.R + TransposeBody<T>.Tile - 1) / TransposeBody<T>.Tile;
            int items = t.Batches * t.RowTiles;
            if (count < 32_768 || items == 1) t.Execute(0, items);
            else CpuParallel.For(items, Math.Max(1, 16_384 / (TransposeBody<T>.Tile * t.C)), ref t);
            return;
        }

        // output rows: all output dims but the last; per output dim, its size and src stride
        int* outDims = stackalloc int[r];
        long* srcStride = stackalloc long[r];
        for (int i = 0; i < r; i++) { outDims[i] = sd[p[i]]; srcStride[i] = stride[p[i]]; }
        var body = new GatherBody<T>
        {
            Src = src, Dst = dst, OutDims = outDims, SrcStride = srcStride, Rank = r, Length = outDims[r - 1],
            Step = srcStride[r - 1], Accumulate = accumulate,
        };
        int rows = (int)(count / body.Length);
        if (count < 32_768 || rows == 1) body.Execute(0, rows);
        else CpuParallel.For(rows, Math.Max(1, 16_384 / body.Length), ref body);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyOrAdd<T>(T* src, T* dst, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (accumulate) TensorPrimitives.Add(new ReadOnlySpan<T>(dst, n), new ReadOnlySpan<T>(src, n), new Span<T>(dst, n));
        else new ReadOnlySpan<T>(src, n).CopyTo(new Span<T>(dst, n));
    }

    /// <summary>dst[b, c, r] (+)= src[b, r, c] in 32×32 tiles (a tile of src rows and one of dst rows stay in L1).
    /// An item is one batch and one tile of src rows; it walks all column tiles.</summary>
    private struct TransposeBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public const int Tile = 32;
        public T* Src, Dst;
        public int Batches, R, C, RowTiles;
        public bool Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int item = start; item < end; item++)
            {
                int b = item / RowTiles, r0 = (item - b * RowTiles) * Tile, r1 = Math.Min(R, r0 + Tile);
                T* s = Src + (long)b * R * C, d = Dst + (long)b * R * C;
                for (int c0 = 0; c0 < C; c0 += Tile)
                {
                    int c1 = Math.Min(C, c0 + Tile);
                    for (int c = c0; c < c1; c++)
                    {
                        T* dr = d + (long)c * R;
                        T* sc = s + c;
                        if (Accumulate) for (int i = r0; i < r1; i++) dr[i] += sc[(long)i * C];
                        else for (int i = r0; i < r1; i++) dr[i] = sc[(long)i * C];
                    }
                }
            }
        }
    }

    /// <summary>One output row (all output dims but the last) per index: its src offset from the row's multi-index, then
    /// a copy (when the last dim stays last, Step = 1) or a strided gather.</summary>
    private struct GatherBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src, Dst;
        public int* OutDims;
        public long* SrcStride;
        public int Rank, Length;
        public long Step;
        public bool Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int row = start; row < end; row++)
            {
                long offset = 0;
                int rest = row;
                for (int i = Rank - 2; i >= 0; i--)
                {
                    int n = OutDims[i];
                    int idx = rest % n;
                    rest /= n;
                    offset += idx * SrcStride[i];
                }
                T* s = Src + offset, d = Dst + (long)row * Length;
                if (Step == 1) CopyOrAdd(s, d, Length, Accumulate);
                else if (Accumulate) for (int j = 0; j < Length; j++) d[j] += s[j * Step];
                else for (int j = 0; j < Length; j++) d[j] = s[j * Step];
            }
        }
    }
}

public static partial class Ops
{
    /// <summary>The permutation that swaps <paramref name="dim0"/> and <paramref name="dim1"/> of a rank-<paramref name="rank"/>
    /// tensor (Transpose; negative dims count from the end). Built once per plan.</summary>
    public static int[] TransposeDims(int rank, int dim0, int dim1)
    {
        int a = NormalizeDim(dim0, rank, "Transpose"), b = NormalizeDim(dim1, rank, "Transpose");
        var perm = Enumerable.Range(0, rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return perm;
    }
}

public abstract partial class Module
{
    /// <summary>Swaps two dimensions (<c>torch.transpose</c>; negative dims count from the end), materialised contiguous.</summary>
    protected static Tensor Transpose(Tensor x, int dim0, int dim1) => throw Dsl.OutsideForward(nameof(Transpose));

    /// <summary>Reorders the dimensions (<c>torch.permute</c>): output dimension i is input dimension dims[i].</summary>
    protected static Tensor Permute(Tensor x, params int[] dims) => throw Dsl.OutsideForward(nameof(Permute));
}
