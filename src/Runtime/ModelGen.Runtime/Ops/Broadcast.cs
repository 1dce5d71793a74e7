using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>NumPy broadcasting for the generator's fused element-wise kernels (rules: the binary ops of
/// src/Generators/Ops/Arithmetic.cs, Maximum, Minimum): the output shape, the layout a fused kernel walks, and the
/// reduction of a broadcast operand's gradient back to its shape.</summary>
public static unsafe partial class Ops
{
    /// <summary>The broadcast shape of <paramref name="a"/> and <paramref name="b"/> (NumPy's rule: shapes are aligned
    /// at their last dimension; two dimensions agree when they are equal or one of them is 1; a missing leading
    /// dimension is 1).</summary>
    public static Shape BroadcastShape(Shape a, Shape b, string op)
    {
        if (a.Equals(b)) return a;
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int da = i <= a.Rank ? a[a.Rank - i] : 1, db = i <= b.Rank ? b[b.Rank - i] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ShapeMismatchException(
                    $"'{op}' cannot broadcast {a} with {b}: dimension {-i} is {da} in the first and {db} in the second (they must be equal or one of them 1).");
            dims[rank - i] = da == 1 ? db : da;
        }
        return new Shape(dims);
    }

    /// <summary>Runs a fused element-wise body over a broadcast layout's parts (see <see cref="BroadcastLayout.Parts"/>).</summary>
    public static void ElementwiseParts<TBody>(string name, BroadcastLayout layout, ref TBody body) where TBody : struct, IRangeBody
    {
        KernelStats.Record(name);
        if (layout.Output.Count < 32_768) body.Execute(0, layout.Parts);
        else CpuParallel.For(layout.Parts, Math.Max(1, 16_384 / Math.Max(1, layout.PartLength)), ref body);
    }

    /// <summary>dst (+)= the sum of <paramref name="src"/> (shaped like the layout's output) over the positions that
    /// broadcast operand <paramref name="operand"/> of <paramref name="layout"/> to them: the gradient of a broadcast is
    /// the sum of the gradients of its copies. A no-op when <paramref name="dst"/> is null or the operand is not broadcast
    /// (its gradient was written in place).</summary>
    public static void SumToShape<T>(BroadcastLayout layout, int operand, Tensor src, Tensor? dst, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dst is null || layout.IsDense(operand)) return;
        if (!dst.Device.IsCpu) throw BroadcastLayout.NoIlgpuForm(layout);
        KernelStats.Record("sum-to-shape");
        var plan = layout.Reduction(operand);
        var body = new SumToShapeBody<T>
        {
            Src = src.Ptr<T>(), Dst = dst.Ptr<T>(), Plan = plan, Inner = layout.Inner, Accumulate = accumulate,
            Splat = layout.IsSplat(operand),
        };
        int parts = plan.Blocks.Length * plan.Chunks;
        long work = (long)src.Count;
        if (work < 32_768 || parts == 1) body.Execute(0, parts);
        else CpuParallel.For(parts, 1, ref body);
    }

    private struct SumToShapeBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src, Dst;
        public BroadcastLayout.ReductionPlan Plan;
        public int Inner;
        public bool Accumulate, Splat;

        public readonly void Execute(int start, int end)
        {
            var rows = Plan.BroadcastRows;
            for (int part = start; part < end; part++)
            {
                int q = part / Plan.Chunks, chunk = part % Plan.Chunks;
                int j0 = chunk * Plan.ChunkLength, j1 = Math.Min(Inner, j0 + Plan.ChunkLength);
                int baseRow = Plan.Blocks[q];
                T* dst = Dst + Plan.Offsets[q];
                if (Splat)
                {
                    // one destination element per block: Σ over the broadcast rows and the whole inner block
                    double sum = 0;
                    foreach (var r in rows)
                    {
                        T* s = Src + (long)(baseRow + r) * Inner;
                        for (int j = 0; j < Inner; j++) sum += double.CreateTruncating(s[j]);
                    }
                    T value = T.CreateTruncating(sum);
                    dst[0] = Accumulate ? dst[0] + value : value;
                    continue;
                }
                int i = j0;
                if (Vector256.IsHardwareAccelerated)
                {
                    int w = Vector256<T>.Count;
                    for (; i <= j1 - w; i += w)
                    {
                        var acc = Vector256<T>.Zero;
                        foreach (var r in rows) acc += Vector256.Load(Src + (long)(baseRow + r) * Inner + i);
                        if (Accumulate) acc += Vector256.Load(dst + i);
                        acc.Store(dst + i);
                    }
                }
                for (; i < j1; i++)
                {
                    T acc = T.Zero;
                    foreach (var r in rows) acc += Src[(long)(baseRow + r) * Inner + i];
                    dst[i] = Accumulate ? dst[i] + acc : acc;
                }
            }
        }
    }
}

/// <summary>
/// How a fused element-wise kernel walks an output and the operands broadcast to it. The output's dimensions are
/// collapsed into [outer…, inner]: the inner block is the longest run of trailing dimensions over which every operand is
/// either contiguous (it has those dimensions) or constant (all of them are 1 in it: a "splat", one value per block);
/// neighbouring outer dimensions that every operand treats alike are merged. A kernel then runs SIMD loops over inner
/// blocks, each operand loaded from its own offset (or splatted), and the output is written densely. Built once per
/// plan (per input shape), so a step allocates nothing.
/// </summary>
public sealed class BroadcastLayout
{
    private readonly int[] _outerDims;
    private readonly int[][] _strides;
    private readonly bool[] _splat, _dense;
    private readonly BroadcastLayout.ReductionPlan?[] _reductions;

    private BroadcastLayout(Shape output, Shape[] operands)
    {
        Output = output;
        Operands = operands;
        int n = operands.Length, rank = output.Rank;
        _dense = operands.Select(o => o.Equals(output)).ToArray();
        _splat = new bool[n];
        _reductions = new ReductionPlan?[n];
        // per output dimension (those of size 1 dropped: they move nothing), per operand: kept or broadcast
        var dims = new List<int>();
        var keep = new List<bool[]>();
        var stride = new List<int[]>();
        var strideOf = new int[n];
        for (int e = 0; e < n; e++) strideOf[e] = 1;
        var padded = new int[n][];
        for (int e = 0; e < n; e++)
        {
            var o = operands[e];
            if (o.Rank > rank) throw new ShapeMismatchException($"{o} does not broadcast to {output}: it has more dimensions.");
            padded[e] = new int[rank];
            for (int d = 0; d < rank; d++) padded[e][d] = d < rank - o.Rank ? 1 : o[d - (rank - o.Rank)];
            for (int d = 0; d < rank; d++)
                if (padded[e][d] != output[d] && padded[e][d] != 1)
                    throw new ShapeMismatchException($"{o} does not broadcast to {output}: dimension {d - rank} is {padded[e][d]}, not {output[d]} or 1.");
        }
        // element strides of each operand's own (contiguous) storage, innermost first
        var elementStride = new int[n][];
        for (int e = 0; e < n; e++)
        {
            elementStride[e] = new int[rank];
            int s = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                elementStride[e][d] = s;
                s *= padded[e][d];
            }
        }
        for (int d = 0; d < rank; d++)
        {
            if (output[d] == 1) continue;
            dims.Add(output[d]);
            keep.Add(Enumerable.Range(0, n).Select(e => padded[e][d] == output[d]).ToArray());
            stride.Add(Enumerable.Range(0, n).Select(e => padded[e][d] == output[d] ? elementStride[e][d] : 0).ToArray());
        }
        // the inner block: the longest suffix over which each operand is kept throughout or broadcast throughout
        int first = dims.Count;
        while (first > 0 && (first == dims.Count || Enumerable.Range(0, n).All(e => keep[first - 1][e] == keep[dims.Count - 1][e]))) first--;
        int inner = 1;
        for (int d = first; d < dims.Count; d++) inner *= dims[d];
        for (int e = 0; e < n; e++) _splat[e] = dims.Count > 0 && !keep[dims.Count - 1][e];
        // merge neighbouring outer dimensions treated alike by every operand (the stride of a merged pair is its inner one's)
        var outer = new List<int>();
        var outerStrides = new List<int[]>();
        var outerKeep = new List<bool[]>();
        for (int d = 0; d < first; d++)
        {
            if (outer.Count > 0 && Enumerable.Range(0, n).All(e => outerKeep[^1][e] == keep[d][e]))
            {
                outer[^1] *= dims[d];
                outerStrides[^1] = stride[d];
                continue;
            }
            outer.Add(dims[d]);
            outerStrides.Add(stride[d]);
            outerKeep.Add(keep[d]);
        }
        _outerDims = outer.ToArray();
        _strides = Enumerable.Range(0, n).Select(e => outerStrides.Select(s => s[e]).ToArray()).ToArray();
        Inner = output.Count == 0 ? 0 : inner;
        Rows = output.Count == 0 ? 0 : output.Count / inner;
        // a long inner block is cut into chunks, so that a row-broadcast (one row) still spreads over the threads
        PartLength = Inner > 16_384 ? 8_192 : Math.Max(1, Inner);
        ChunksPerRow = Inner == 0 ? 1 : (Inner + PartLength - 1) / PartLength;
        Parts = Rows * ChunksPerRow;
    }

    public Shape Output { get; }
    public IReadOnlyList<Shape> Operands { get; }
    public int Rows { get; }
    public int Inner { get; }
    /// <summary>The work units of a kernel: <see cref="Rows"/> × <see cref="ChunksPerRow"/> inner chunks.</summary>
    public int Parts { get; }
    public int ChunksPerRow { get; }
    public int PartLength { get; }

    /// <summary>Every operand has the output's shape: the kernel runs over flat element ranges.</summary>
    public bool AllDense => _dense.All(d => d);

    public bool IsDense(int operand) => _dense[operand];

    /// <summary>The operand holds one value per inner block.</summary>
    public bool IsSplat(int operand) => _splat[operand];

    public static BroadcastLayout For(Shape output, params Shape[] operands) => new(output, operands);

    /// <summary>The element offset in <paramref name="operand"/> of the inner block of output row <paramref name="row"/>.</summary>
    public int Offset(int operand, int row)
    {
        var strides = _strides[operand];
        int offset = 0;
        for (int d = _outerDims.Length - 1; d >= 0; d--)
        {
            int size = _outerDims[d];
            offset += row % size * strides[d];
            row /= size;
        }
        return offset;
    }

    /// <summary>The gradient tensor a kernel writes for an operand: its own gradient when it is not broadcast, else
    /// <paramref name="scratch"/> (shaped like the output), which <see cref="Ops.SumToShape{T}"/> then reduces.</summary>
    public Tensor? GradientTarget(int operand, Tensor? gradient, Tensor scratch) => gradient is null ? null : _dense[operand] ? gradient : scratch;

    /// <summary>Whether the kernel adds to what it writes for the operand (never into the scratch).</summary>
    public bool Accumulates(int operand, bool accumulate) => accumulate && _dense[operand];

    /// <summary>The shape of an operand's gradient scratch: the output's when it is broadcast, else a placeholder.</summary>
    public Shape ScratchShape(int operand) => _dense[operand] ? Shape.Scalar : Output;

    /// <summary>ILGPU forms of broadcasting kernels come with GPU part 2.</summary>
    public void RequireDense(string what)
    {
        if (!AllDense) throw NoIlgpuForm(this, what);
    }

    internal static NotSupportedException NoIlgpuForm(BroadcastLayout layout, string what = "a broadcast")
        => new($"{what} broadcasts {string.Join(" and ", layout.Operands.Where(o => !o.Equals(layout.Output)))} to {layout.Output}, which has no ILGPU form yet (it comes with GPU part 2): run this model on Device.Cpu, or give the operands equal shapes.");

    /// <summary>For the reduction of a broadcast operand's gradient: the output rows that start each destination block
    /// (one per distinct operand offset), and the row offsets of the copies of a block (over the broadcast outer
    /// dimensions). Disjoint destination blocks let the reduction run in parallel without atomics.</summary>
    public sealed class ReductionPlan(int[] blocks, int[] offsets, int[] broadcastRows, int chunkLength, int chunks)
    {
        public int[] Blocks { get; } = blocks;
        public int[] Offsets { get; } = offsets;
        public int[] BroadcastRows { get; } = broadcastRows;
        public int ChunkLength { get; } = chunkLength;
        public int Chunks { get; } = chunks;
    }

    internal ReductionPlan Reduction(int operand)
    {
        if (_reductions[operand] is { } cached) return cached;
        var strides = _strides[operand];
        var blocks = new List<int> { 0 };
        var copies = new List<int> { 0 };
        int rowStride = 1;
        for (int d = _outerDims.Length - 1; d >= 0; d--)
        {
            var target = strides[d] != 0 ? blocks : copies;
            int count = target.Count;
            for (int k = 1; k < _outerDims[d]; k++)
                for (int j = 0; j < count; j++) target.Add(target[j] + k * rowStride);
            rowStride *= _outerDims[d];
        }
        var offsets = blocks.Select(r => Offset(operand, r)).ToArray();
        // split the inner block across threads when there are few destination blocks (a bias-like [C] gradient)
        int chunks = _splat[operand] ? 1 : Math.Max(1, Math.Min(CpuParallel.ThreadCount * 2 / Math.Max(1, blocks.Count), Inner / 64));
        int chunkLength = Inner == 0 ? 1 : (Inner + chunks - 1) / chunks;
        var plan = new ReductionPlan(blocks.ToArray(), offsets, copies.ToArray(), chunkLength, chunks);
        _reductions[operand] = plan;
        return plan;
    }
}
