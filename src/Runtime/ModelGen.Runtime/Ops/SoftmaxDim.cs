using System.Numerics;
using System.Runtime.CompilerServices;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>
/// Softmax and LogSoftmax over any dimension, and their backward, CPU only for now. x is viewed as [outer, n, inner]
/// (see ReduceDim.cs): each item (one outer index, a block of up to 64 inner columns) takes the maximum over n, sums
/// exp(x − max) in double, then writes; items run on the engine's threads. The last dimension is the case inner = 1.
/// </summary>
public static unsafe partial class Ops
{
    /// <summary>y = softmax(x) over <paramref name="dim"/> (log: log_softmax). A slice of all −∞ gives NaN, as PyTorch's.</summary>
    public static void SoftmaxDim<T>(Tensor x, Tensor y, int dim, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string op = log ? "LogSoftmaxDim" : "SoftmaxDim";
        RequireCpu(op, x);
        RequireCpu(op, y);
        var (_, g) = DimOf(op, x, dim);
        CheckCount(op, y, x.Count, "y");
        KernelStats.Record(log ? "log-softmax-dim" : "softmax-dim");
        var body = new SoftmaxDimBody<T> { X = x.Ptr<T>(), Y = y.Ptr<T>(), G = g, Log = log };
        RunDim(g, ref body);
    }

    /// <summary>
    /// Softmax: dx (+)= y ⊙ (dy − Σ_dim dy ⊙ y)  (∂y_i/∂x_j = y_i(δ_ij − y_j)).
    /// LogSoftmax (y = log_softmax(x)): dx (+)= dy − exp(y) · Σ_dim dy  (∂y_i/∂x_j = δ_ij − softmax_j).
    /// </summary>
    public static void SoftmaxDimBackward<T>(Tensor y, Tensor dy, Tensor dx, int dim, bool log, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string op = log ? "LogSoftmaxDimBackward" : "SoftmaxDimBackward";
        RequireCpu(op, y);
        RequireCpu(op, dx);
        var (_, g) = DimOf(op, y, dim);
        CheckCount(op, dy, y.Count, "dy");
        CheckCount(op, dx, y.Count, "dx");
        KernelStats.Record(log ? "log-softmax-dim-backward" : "softmax-dim-backward");
        var body = new SoftmaxDimBackwardBody<T> { Y = y.Ptr<T>(), Dy = dy.Ptr<T>(), Dx = dx.Ptr<T>(), G = g, Log = log, Accumulate = accumulate };
        RunDim(g, ref body);
    }

    private struct SoftmaxDimBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public DimGeom G;
        public bool Log;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            T* max = stackalloc T[DimGeom.Block];
            double* sum = stackalloc double[DimGeom.Block];
            T* shift = stackalloc T[DimGeom.Block];
            int inner = G.Inner;
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out _, out int w);
                T* xb = X + xo, yb = Y + xo;
                for (int j = 0; j < w; j++) { max[j] = T.NegativeInfinity; sum[j] = 0; }
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * inner;
                    for (int j = 0; j < w; j++) max[j] = T.Max(max[j], xr[j]);
                }
                for (int k = 0; k < G.N; k++)
                {
                    T* xr = xb + (long)k * inner, yr = yb + (long)k * inner;
                    if (Log) for (int j = 0; j < w; j++) sum[j] += double.CreateTruncating(T.Exp(xr[j] - max[j]));
                    else
                        for (int j = 0; j < w; j++)
                        {
                            T e = T.Exp(xr[j] - max[j]);
                            yr[j] = e;
                            sum[j] += double.CreateTruncating(e);
                        }
                }
                if (Log)
                {
                    // y = x − (max + log Σ): the shift in double, rounded once
                    for (int j = 0; j < w; j++) shift[j] = T.CreateTruncating(double.CreateTruncating(max[j]) + Math.Log(sum[j]));
                    for (int k = 0; k < G.N; k++)
                    {
                        T* xr = xb + (long)k * inner, yr = yb + (long)k * inner;
                        for (int j = 0; j < w; j++) yr[j] = xr[j] - shift[j];
                    }
                }
                else
                {
                    for (int j = 0; j < w; j++) shift[j] = T.CreateTruncating(1.0 / sum[j]);
                    for (int k = 0; k < G.N; k++)
                    {
                        T* yr = yb + (long)k * inner;
                        for (int j = 0; j < w; j++) yr[j] *= shift[j];
                    }
                }
            }
        }
    }

    private struct SoftmaxDimBackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Y, Dy, Dx;
        public DimGeom G;
        public bool Log, Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            double* acc = stackalloc double[DimGeom.Block];
            T* s = stackalloc T[DimGeom.Block];
            int inner = G.Inner;
            for (int item = start; item < end; item++)
            {
                G.Locate(item, out long xo, out _, out int w);
                for (int j = 0; j < w; j++) acc[j] = 0;
                for (int k = 0; k < G.N; k++)
                {
                    long o = xo + (long)k * inner;
                    T* yr = Y + o, gr = Dy + o;
                    if (Log) AddTo(acc, gr, w);
                    else for (int j = 0; j < w; j++) acc[j] += double.CreateTruncating(gr[j] * yr[j]);
                }
                for (int j = 0; j < w; j++) s[j] = T.CreateTruncating(acc[j]);
                for (int k = 0; k < G.N; k++)
                {
                    long o = xo + (long)k * inner;
                    T* yr = Y + o, gr = Dy + o, d = Dx + o;
                    for (int j = 0; j < w; j++)
                    {
                        T v = Log ? gr[j] - T.Exp(yr[j]) * s[j] : yr[j] * (gr[j] - s[j]);
                        d[j] = Accumulate ? d[j] + v : v;
                    }
                }
            }
        }
    }
}

public static partial class Ops
{
    /// <summary>The shape of an op over one dimension that keeps its input's shape (Softmax(x, dim)), after checking the dim.</summary>
    public static Shape DimShape(Shape x, int dim, string op)
    {
        NormalizeDim(dim, Math.Max(1, x.Rank), op);
        return x;
    }
}

public abstract partial class Module
{
    /// <summary>Softmax over <paramref name="dim"/> (negative counts from the end); <c>Softmax(x)</c> is over the last.</summary>
    protected static Tensor Softmax(Tensor x, int dim) => throw Dsl.OutsideForward(nameof(Softmax));

    /// <summary>LogSoftmax over <paramref name="dim"/>.</summary>
    protected static Tensor LogSoftmax(Tensor x, int dim) => throw Dsl.OutsideForward(nameof(LogSoftmax));
}
