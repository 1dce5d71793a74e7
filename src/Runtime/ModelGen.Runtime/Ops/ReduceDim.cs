using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>
/// Reductions over one dimension (Sum, Mean, Max, Min, Var, LogSumExp) and their backward, CPU only for now. The input
/// is viewed as [outer, n, inner] (n the reduced dimension); the output as [outer, inner], whether or not the caller
/// keeps the reduced dimension (keepDim changes the shape, not the memory). Work is split into items of one outer index
/// and a block of up to 64 inner columns: each item walks its n rows with unit-stride inner loops (row-major friendly),
/// accumulating in double (Σ in float32 stays within 1e-7 relative of float64), and items run on the engine's threads.
/// Also the helpers the tensor-algebra routines share: the one message for a routine that has no ILGPU form, dimension
/// normalisation (negative dims count from the end) and size checks.
/// </summary>
public static unsafe partial class Ops
{
    // ---------------- shared by MatMul, Permute, ReduceDim, SoftmaxDim ----------------

    /// <summary>The error of a tensor-algebra routine called on a tensor that is not on the CPU.</summary>
    internal static NotSupportedException NoIlgpuForm(string op)
        => new($"{op} has no ILGPU form yet (it comes with GPU part 2): run this model on Device.Cpu");

    internal static void RequireCpu(string op, Tensor t)
    {
        if (!t.Device.IsCpu) throw NoIlgpuForm(op);
    }

    /// <summary>dim in [−rank, rank) → [0, rank); otherwise an ArgumentOutOfRangeException naming the op, the dim and the rank.</summary>
    internal static int NormalizeDim(int dim, int rank, string op)
    {
        if (dim < -rank || dim >= rank)
            throw new ArgumentOutOfRangeException(nameof(dim),
                rank == 0 ? $"{op}: dim {dim} is out of range for a tensor of rank 0 (it has no dimensions)"
                          : $"{op}: dim {dim} is out of range for a tensor of rank {rank} (expected {-rank} to {rank - 1})");
        return dim < 0 ? dim + rank : dim;
    }

    internal static void CheckCount(string op, Tensor t, int expected, string what)
    {
        if (t.Count != expected)
            throw new ShapeMismatchException($"{op}: {what} {t.Shape} holds {t.Count} values, expected {expected}.");
    }

    /// <summary>x viewed as [outer, n, inner] around dimension <c>dim</c> (already normalised), cut into items of one
    /// outer index and a block of up to <see cref="Block"/> inner columns.</summary>
    internal readonly struct DimGeom
    {
        public const int Block = 64;
        public readonly int Outer, N, Inner, Blocks;

        public DimGeom(Shape x, int dim)
        {
            long outer = 1, inner = 1;
            var d = x.Dims;
            for (int i = 0; i < dim; i++) outer *= d[i];
            for (int i = dim + 1; i < d.Length; i++) inner *= d[i];
            Outer = (int)outer;
            N = d.Length == 0 ? 1 : d[dim];
            Inner = (int)inner;
            Blocks = (Inner + Block - 1) / Block;
        }

        public int Items => Outer * Blocks;
        public int Reduced => Outer * Inner;

        /// <summary>Item → offset of x[o, 0, i0], offset of y[o, i0], and the block width.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Locate(int item, out long xOff, out long yOff, out int w)
        {
            int o = item / Blocks, i0 = (item - o * Blocks) * Block;
            w = Math.Min(Block, Inner - i0);
            xOff = (long)o * N * Inner + i0;
            yOff = (long)o * Inner + i0;
        }
    }

    /// <summary>Runs a DimGeom body over its items: inline below 32K elements, else on the engine's threads in chunks of ~16K elements.</summary>
    internal static void RunDim<TBody>(in DimGeom g, ref TBody body) where TBody : struct, IRangeBody
    {
        int items = g.Items;
        if (items <= 0) return;
        long work = (long)g.Outer * g.N * g.Inner;
        if (work < 32_768 || items == 1) { body.Execute(0, items); return; }
        long perItem = Math.Max(1L, (long)g.N * Math.Min(DimGeom.Block, g.Inner));
        CpuParallel.For(items, (int)Math.Max(1, 16_384 / perItem), ref body);
    }

    private static (int Dim, DimGeom Geom) DimOf(string op, Tensor x, int dim)
    {
        int d = NormalizeDim(dim, Math.Max(1, x.Shape.Rank), op);
        return (d, new DimGeom(x.Shape, x.Shape.Rank == 0 ? 0 : d));
    }

    // ---------------- shape rule ----------------

    /// <summary>The shape of a reduction over <paramref name="dim"/>: without it, or with it kept as 1. A rank-0 tensor
    /// reduces over dim 0 or −1 (as in PyTorch) to a rank-0 result.</summary>
    public static Shape ReduceShape(Shape x, int dim, bool keepDim, string op)
    {
        int rank = x.Rank;
        int d = NormalizeDim(dim, Math.Max(1, rank), op);
        if (rank == 0) return x;
        var dims = new int[keepDim ? rank : rank - 1];
        for (int i = 0, j = 0; i < rank; i++)
        {
            if (i == d) { if (keepDim) dims[j++] = 1; }
            else dims[j++] = x[i];
        }
        return new Shape(dims);
    }

    // ---------------- Sum / Mean ----------------

    /// <summary>y = Σ_dim x (Mean: divided by n; an empty dim gives 0 for Sum and NaN for Mean, as in PyTorch).</summary>
    public static void SumDim<T>(Tensor x, Tensor y, int dim, bool mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string op = mean ? "MeanDim" : "SumDim";
        RequireCpu(op, x);
        RequireCpu(op, y);
        var (_, g) = DimOf(op, x, dim);
        CheckCount(op, y, g.Reduced, "y");
        KernelStats.Record(mean ? "mean-dim" : "sum-dim");
        var body = new SumDimBody<T> { X = x.Ptr<T>(), Y = y.Ptr<T>(), G = g, Scale = mean ? 1.0 / g.N : 1.0 };
        RunDim(g, ref body);
    }

    /// <summary>dx (+)= dy broadcast along dim (· 1/n for Mean).</summary>
    public static void SumDimBackward<T>(Tensor dy, Tensor dx, int dim, bool mean, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string op = mean ? "MeanDimBackward" : "SumDimBackward";
        RequireCpu(op, dy);
        RequireCpu(op, dx);
        var (_, g) = DimOf(op, dx, dim);
        CheckCount(op, dy, g.Reduced, "dy");
        KernelStats.Record(mean ? "mean-dim-backward" : "sum-dim-backward");
        var body = new SumDimBackwardBody<T> { Dy = dy.Ptr<T>(), Dx = dx.Ptr<T>(), G = g, Scale = T.CreateTruncating(mean ? 1.0 / g.N : 1.0), Accumulate = accumulate };
        RunDim(g, ref body);
    }

    private struct SumDimBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public DimGeom G;
        public double Scale;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            double* acc = stackalloc double[DimGeom.Block];
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* xb = X + xo;
                if (G.Inner == 1) { Y[yo] = T.CreateTruncating(SumContiguous(xb, G.N) * Scale); continue; }
                for (int j = 0; j < w; j++) acc[j] = 0;
                for (int k = 0; k < G.N; k++) AddTo(acc, xb + (long)k * G.Inner, w);
                for (int j = 0; j < w; j++) Y[yo + j] = T.CreateTruncating(acc[j] * Scale);
            }
        }
    }

    private struct SumDimBackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, Dx;
        public DimGeom G;
        public T Scale;
        public bool Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* g = Dy + yo;
                for (int k = 0; k < G.N; k++)
                {
                    T* d = Dx + xo + (long)k * G.Inner;
                    if (Accumulate) for (int j = 0; j < w; j++) d[j] += g[j] * Scale;
                    else for (int j = 0; j < w; j++) d[j] = g[j] * Scale;
                }
            }
        }
    }

    /// <summary>Σ x[0..n) in double: four Vector256&lt;double&gt; accumulators (float32 widened), then the tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double SumContiguous<T>(T* x, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 16)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            if (typeof(T) == typeof(float))
            {
                float* f = (float*)x;
                for (; i + 16 <= n; i += 16)
                {
                    var (l0, h0) = Vector256.Widen(Vector256.Load(f + i));
                    var (l1, h1) = Vector256.Widen(Vector256.Load(f + i + 8));
                    a0 += l0; a1 += h0; a2 += l1; a3 += h1;
                }
            }
            else
            {
                double* d = (double*)x;
                for (; i + 16 <= n; i += 16)
                {
                    a0 += Vector256.Load(d + i); a1 += Vector256.Load(d + i + 4);
                    a2 += Vector256.Load(d + i + 8); a3 += Vector256.Load(d + i + 12);
                }
            }
            sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) sum += double.CreateTruncating(x[i]);
        return sum;
    }

    /// <summary>acc[j] += x[j] for j &lt; w (double accumulators; float32 widened).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AddTo<T>(double* acc, T* x, int w) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            if (typeof(T) == typeof(float))
            {
                float* f = (float*)x;
                for (; j + 8 <= w; j += 8)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.Load(f + j));
                    (Vector256.Load(acc + j) + lo).Store(acc + j);
                    (Vector256.Load(acc + j + 4) + hi).Store(acc + j + 4);
                }
            }
            else
            {
                double* d = (double*)x;
                for (; j + 4 <= w; j += 4) (Vector256.Load(acc + j) + Vector256.Load(d + j)).Store(acc + j);
            }
        }
        for (; j < w; j++) acc[j] += double.CreateTruncating(x[j]);
    }

    // ---------------- Max / Min (values only: torch.amax / torch.amin) ----------------

    /// <summary>y = max_dim x (min: min_dim x). NaN propagates (as torch.amax). An empty dim is an error (as in PyTorch).</summary>
    public static void MaxDim<T>(Tensor x, Tensor y, int dim, bool min) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string op = min ? "MinDim" : "MaxDim";
        RequireCpu(op, x);
        RequireCpu(op, y);
        var (d, g) = DimOf(op, x, dim);
        CheckCount(op, y, g.Reduced, "y");
        if (g.N == 0) throw new ShapeMismatchException($"{op}: x {x.Shape} is empty along dim {d}: there is no {(min ? "minimum" : "maximum")}.");
        KernelStats.Record(min ? "min-dim" : "max-dim");
        var body = new MaxDimBody<T> { X = x.Ptr<T>(), Y = y.Ptr<T>(), G = g, Min = min };
        RunDim(g, ref body);
    }

    /// <summary>
    /// dx (+)= dy · [x = y] / count, count = #{k : x_k = y} per reduced position. Ties: when several entries equal the
    /// maximum exactly, the gradient is split evenly among them (torch.amax/amin's rule; torch.max(dim)'s index form
    /// would give it all to one). The subgradient of max at a tie is any convex combination; the even split is the one
    /// symmetric choice. A NaN maximum matches no entry (NaN ≠ NaN), so it sends no gradient.
    /// </summary>
    public static void MaxDimBackward<T>(Tensor x, Tensor y, Tensor dy, Tensor dx, int dim, bool min, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string op = min ? "MinDimBackward" : "MaxDimBackward";
        RequireCpu(op, x);
        RequireCpu(op, dx);
        var (_, g) = DimOf(op, x, dim);
        CheckCount(op, y, g.Reduced, "y");
        CheckCount(op, dy, g.Reduced, "dy");
        CheckCount(op, dx, x.Count, "dx");
        KernelStats.Record(min ? "min-dim-backward" : "max-dim-backward");
        var body = new MaxDimBackwardBody<T> { X = x.Ptr<T>(), Y = y.Ptr<T>(), Dy = dy.Ptr<T>(), Dx = dx.Ptr<T>(), G = g, Accumulate = accumulate };
        RunDim(g, ref body);
    }

    private struct MaxDimBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public DimGeom G;
        public bool Min;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* xb = X + xo, yb = Y + yo;
                if (G.Inner == 1) { yb[0] = Min ? MinContiguous(xb, G.N) : MaxContiguous(xb, G.N); continue; }
                for (int j = 0; j < w; j++) yb[j] = xb[j];
                for (int k = 1; k < G.N; k++) MaxInto(yb, xb + (long)k * G.Inner, w, Min);
            }
        }
    }

    private struct MaxDimBackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y, Dy, Dx;
        public DimGeom G;
        public bool Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            T* share = stackalloc T[DimGeom.Block];
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* xb = X + xo, yb = Y + yo, gb = Dy + yo;
                for (int j = 0; j < w; j++) share[j] = T.Zero;
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * G.Inner;
                    for (int j = 0; j < w; j++) if (xr[j] == yb[j]) share[j] += T.One;
                }
                for (int j = 0; j < w; j++) share[j] = share[j] == T.Zero ? T.Zero : gb[j] / share[j];
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * G.Inner, d = Dx + xo + (long)k * G.Inner;
                    for (int j = 0; j < w; j++)
                    {
                        T v = xr[j] == yb[j] ? share[j] : T.Zero;
                        d[j] = Accumulate ? d[j] + v : v;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T MaxContiguous<T>(T* x, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T m = x[0];
        if (Vector256.IsHardwareAccelerated && n >= 2 * Vector256<T>.Count)
        {
            int c = Vector256<T>.Count;
            var a0 = Vector256.Load(x); var a1 = Vector256.Load(x + c);
            for (i = 2 * c; i + 2 * c <= n; i += 2 * c) { a0 = Vector256.Max(a0, Vector256.Load(x + i)); a1 = Vector256.Max(a1, Vector256.Load(x + i + c)); }
            a0 = Vector256.Max(a0, a1);
            for (int l = 0; l < c; l++) m = T.Max(m, a0.GetElement(l));
        }
        for (; i < n; i++) m = T.Max(m, x[i]);
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T MinContiguous<T>(T* x, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T m = x[0];
        if (Vector256.IsHardwareAccelerated && n >= 2 * Vector256<T>.Count)
        {
            int c = Vector256<T>.Count;
            var a0 = Vector256.Load(x); var a1 = Vector256.Load(x + c);
            for (i = 2 * c; i + 2 * c <= n; i += 2 * c) { a0 = Vector256.Min(a0, Vector256.Load(x + i)); a1 = Vector256.Min(a1, Vector256.Load(x + i + c)); }
            a0 = Vector256.Min(a0, a1);
            for (int l = 0; l < c; l++) m = T.Min(m, a0.GetElement(l));
        }
        for (; i < n; i++) m = T.Min(m, x[i]);
        return m;
    }

    /// <summary>acc[j] = max(acc[j], x[j]) (or min) for j &lt; w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxInto<T>(T* acc, T* x, int w, bool min) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0, c = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated)
        {
            if (min) for (; j + c <= w; j += c) Vector256.Min(Vector256.Load(acc + j), Vector256.Load(x + j)).Store(acc + j);
            else for (; j + c <= w; j += c) Vector256.Max(Vector256.Load(acc + j), Vector256.Load(x + j)).Store(acc + j);
        }
        if (min) for (; j < w; j++) acc[j] = T.Min(acc[j], x[j]);
        else for (; j < w; j++) acc[j] = T.Max(acc[j], x[j]);
    }

    // ---------------- Var ----------------

    /// <summary>
    /// y = Σ_dim (x − mean)² / D with D = n − 1 (unbiased, PyTorch's default) or n. Two passes in double (the mean, then
    /// the squared deviations), which stays accurate for inputs far from zero. When D = 0 (n = 1 unbiased, or an empty
    /// dim) the result is 0/0 = NaN, as PyTorch's (which also warns).
    /// </summary>
    public static void VarDim<T>(Tensor x, Tensor y, int dim, bool unbiased) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("VarDim", x);
        RequireCpu("VarDim", y);
        var (_, g) = DimOf("VarDim", x, dim);
        CheckCount("VarDim", y, g.Reduced, "y");
        KernelStats.Record("var-dim");
        var body = new VarDimBody<T> { X = x.Ptr<T>(), Y = y.Ptr<T>(), G = g, Divisor = unbiased ? g.N - 1 : g.N };
        RunDim(g, ref body);
    }

    /// <summary>
    /// dx (+)= dy · 2(x − mean)/D. Derivation: var = (1/D) Σ_k (x_k − m)², m = (1/n) Σ_k x_k, so
    /// ∂var/∂x_j = (2/D)(x_j − m) − (2/D)(∂m/∂x_j) Σ_k (x_k − m) = (2/D)(x_j − m), because Σ_k (x_k − m) = 0.
    /// D = 0 gives NaN (0 · 2/0), as PyTorch's.
    /// </summary>
    public static void VarDimBackward<T>(Tensor x, Tensor dy, Tensor dx, int dim, bool unbiased, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("VarDimBackward", x);
        RequireCpu("VarDimBackward", dx);
        var (_, g) = DimOf("VarDimBackward", x, dim);
        CheckCount("VarDimBackward", dy, g.Reduced, "dy");
        CheckCount("VarDimBackward", dx, x.Count, "dx");
        KernelStats.Record("var-dim-backward");
        var body = new VarDimBackwardBody<T> { X = x.Ptr<T>(), Dy = dy.Ptr<T>(), Dx = dx.Ptr<T>(), G = g, Divisor = unbiased ? g.N - 1 : g.N, Accumulate = accumulate };
        RunDim(g, ref body);
    }

    private struct VarDimBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public DimGeom G;
        public double Divisor;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            double* mean = stackalloc double[DimGeom.Block];
            double* sq = stackalloc double[DimGeom.Block];
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* xb = X + xo;
                for (int j = 0; j < w; j++) { mean[j] = 0; sq[j] = 0; }
                for (int k = 0; k < G.N; k++) AddTo(mean, xb + (long)k * G.Inner, w);
                for (int j = 0; j < w; j++) mean[j] /= G.N;
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * G.Inner;
                    for (int j = 0; j < w; j++)
                    {
                        double d = double.CreateTruncating(xr[j]) - mean[j];
                        sq[j] += d * d;
                    }
                }
                for (int j = 0; j < w; j++) Y[yo + j] = T.CreateTruncating(sq[j] / Divisor);
            }
        }
    }

    private struct VarDimBackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Dy, Dx;
        public DimGeom G;
        public double Divisor;
        public bool Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            double* mean = stackalloc double[DimGeom.Block];
            double* scale = stackalloc double[DimGeom.Block];
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* xb = X + xo;
                for (int j = 0; j < w; j++) mean[j] = 0;
                for (int k = 0; k < G.N; k++) AddTo(mean, xb + (long)k * G.Inner, w);
                for (int j = 0; j < w; j++)
                {
                    mean[j] /= G.N;
                    scale[j] = double.CreateTruncating(Dy[yo + j]) * 2 / Divisor;
                }
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * G.Inner, d = Dx + xo + (long)k * G.Inner;
                    for (int j = 0; j < w; j++)
                    {
                        T v = T.CreateTruncating(scale[j] * (double.CreateTruncating(xr[j]) - mean[j]));
                        d[j] = Accumulate ? d[j] + v : v;
                    }
                }
            }
        }
    }

    // ---------------- LogSumExp ----------------

    /// <summary>y = m + log Σ_dim exp(x − m), m = max_dim x (stable). A row of −∞ gives −∞ (and a +∞ entry +∞), as PyTorch's.</summary>
    public static void LogSumExpDim<T>(Tensor x, Tensor y, int dim) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("LogSumExpDim", x);
        RequireCpu("LogSumExpDim", y);
        var (_, g) = DimOf("LogSumExpDim", x, dim);
        CheckCount("LogSumExpDim", y, g.Reduced, "y");
        KernelStats.Record("logsumexp-dim");
        var body = new LogSumExpDimBody<T> { X = x.Ptr<T>(), Y = y.Ptr<T>(), G = g };
        RunDim(g, ref body);
    }

    /// <summary>dx (+)= dy · exp(x − y) (∂/∂x_j log Σ_k e^{x_k} = e^{x_j} / Σ_k e^{x_k} = e^{x_j − y}). An entry of −∞ gets 0
    /// (PyTorch computes exp(−∞ − (−∞)) = NaN for a row that is all −∞; here such a row sends no gradient).</summary>
    public static void LogSumExpDimBackward<T>(Tensor x, Tensor y, Tensor dy, Tensor dx, int dim, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu("LogSumExpDimBackward", x);
        RequireCpu("LogSumExpDimBackward", dx);
        var (_, g) = DimOf("LogSumExpDimBackward", x, dim);
        CheckCount("LogSumExpDimBackward", y, g.Reduced, "y");
        CheckCount("LogSumExpDimBackward", dy, g.Reduced, "dy");
        CheckCount("LogSumExpDimBackward", dx, x.Count, "dx");
        KernelStats.Record("logsumexp-dim-backward");
        var body = new LogSumExpDimBackwardBody<T> { X = x.Ptr<T>(), Y = y.Ptr<T>(), Dy = dy.Ptr<T>(), Dx = dx.Ptr<T>(), G = g, Accumulate = accumulate };
        RunDim(g, ref body);
    }

    private struct LogSumExpDimBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public DimGeom G;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            double* max = stackalloc double[DimGeom.Block];
            double* sum = stackalloc double[DimGeom.Block];
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* xb = X + xo;
                for (int j = 0; j < w; j++) { max[j] = double.NegativeInfinity; sum[j] = 0; }
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * G.Inner;
                    for (int j = 0; j < w; j++) max[j] = Math.Max(max[j], double.CreateTruncating(xr[j]));
                }
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * G.Inner;
                    for (int j = 0; j < w; j++) sum[j] += Math.Exp(double.CreateTruncating(xr[j]) - max[j]);
                }
                for (int j = 0; j < w; j++)
                    Y[yo + j] = T.CreateTruncating(double.IsInfinity(max[j]) ? max[j] : max[j] + Math.Log(sum[j]));
            }
        }
    }

    private struct LogSumExpDimBackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y, Dy, Dx;
        public DimGeom G;
        public bool Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out long yo, out int w);
                T* yb = Y + yo, gb = Dy + yo;
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = X + xo + (long)k * G.Inner, d = Dx + xo + (long)k * G.Inner;
                    for (int j = 0; j < w; j++)
                    {
                        T v = T.IsNegativeInfinity(xr[j]) ? T.Zero : gb[j] * T.Exp(xr[j] - yb[j]);
                        d[j] = Accumulate ? d[j] + v : v;
                    }
                }
            }
        }
    }
}

public abstract partial class Module
{
    /// <summary>The sum over <paramref name="dim"/> (<c>torch.sum(x, dim, keepdim)</c>); <c>Sum(x)</c> sums everything.</summary>
    protected static Tensor Sum(Tensor x, int dim, bool keepDim = false) => throw Dsl.OutsideForward(nameof(Sum));

    /// <summary>The mean over <paramref name="dim"/>.</summary>
    protected static Tensor Mean(Tensor x, int dim, bool keepDim = false) => throw Dsl.OutsideForward(nameof(Mean));

    /// <summary>The maximum over <paramref name="dim"/> (values, as <c>torch.amax</c>: at ties the gradient is split evenly).</summary>
    protected static Tensor Max(Tensor x, int dim, bool keepDim = false) => throw Dsl.OutsideForward(nameof(Max));

    /// <summary>The minimum over <paramref name="dim"/> (<c>torch.amin</c>).</summary>
    protected static Tensor Min(Tensor x, int dim, bool keepDim = false) => throw Dsl.OutsideForward(nameof(Min));

    /// <summary>The variance over <paramref name="dim"/>, unbiased (÷ n − 1) by default as in PyTorch.</summary>
    protected static Tensor Var(Tensor x, int dim, bool keepDim = false, bool unbiased = true) => throw Dsl.OutsideForward(nameof(Var));

    /// <summary>log Σ exp over <paramref name="dim"/>, computed stably.</summary>
    protected static Tensor LogSumExp(Tensor x, int dim, bool keepDim = false) => throw Dsl.OutsideForward(nameof(LogSumExp));
}
