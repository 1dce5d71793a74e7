using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>
/// Runtime routines of the convolutional ops (CPU engine; NCHW): Conv2d as GEMMs over im2col matrices with the bias and
/// activation in the GEMM epilogue, max/average/adaptive pooling, BatchNorm2d with running statistics, and channel
/// dropout, each with its backward. On ILGPU devices they throw <see cref="NotSupportedException"/> (not written yet).
/// </summary>
public static unsafe partial class Ops
{
    // ---------------- run-time shape guards ----------------

    /// <summary>A Forward input declared with [Shape(...)] must be [batch, ...that shape].</summary>
    public static void CheckExampleShape(Shape x, int[] dims, string input)
    {
        if (x.Rank != dims.Length + 1 || !x.Dims[1..].SequenceEqual(dims))
            throw new ShapeMismatchException($"Input '{input}' is declared [Shape({string.Join(", ", dims)})], so it must be [batch, {string.Join(", ", dims)}], but got {x}.");
    }

    private static void RequireNchw(Shape x, string layer, string description, string channels)
    {
        if (x.Rank != 4)
            throw new ShapeMismatchException($"{layer} ({description}) expects NCHW input [batch, {channels}, height, width] but got {x}.");
    }

    /// <summary>[N, Cin, H, W] → [N, Cout, Ho, Wo]; names the layer when the channels or the spatial size do not fit.</summary>
    public static Shape Conv2dShape(Shape x, Conv2d layer)
    {
        RequireNchw(x, layer.Name, layer.ToString(), layer.InChannels.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (x[1] != layer.InChannels)
            throw new ShapeMismatchException($"{layer.Name} ({layer}) expects {layer.InChannels} input channels but got {x} ({x[1]} channels).");
        int ho = layer.OutputSize(x[2]), wo = layer.OutputSize(x[3]);
        if (ho < 1 || wo < 1)
            throw new ShapeMismatchException($"{layer.Name} ({layer}): the input {x} padded by {layer.Padding} is smaller than the kernel's extent {layer.Dilation * (layer.KernelSize - 1) + 1}.");
        return new Shape(x[0], layer.OutChannels, ho, wo);
    }

    public static Shape MaxPool2dShape(Shape x, MaxPool2d layer) => PoolShape(x, layer.Name, layer.ToString(), layer.KernelSize, layer.Stride, layer.Padding);
    public static Shape AvgPool2dShape(Shape x, AvgPool2d layer) => PoolShape(x, layer.Name, layer.ToString(), layer.KernelSize, layer.Stride, layer.Padding);

    private static Shape PoolShape(Shape x, string name, string description, int kernel, int stride, int padding)
    {
        RequireNchw(x, name, description, "channels");
        int ho = ConvGeometry.OutputSize(x[2], kernel, stride, padding, 1), wo = ConvGeometry.OutputSize(x[3], kernel, stride, padding, 1);
        if (ho < 1 || wo < 1)
            throw new ShapeMismatchException($"{name} ({description}): the input {x} padded by {padding} is smaller than the {kernel}×{kernel} window.");
        return new Shape(x[0], x[1], ho, wo);
    }

    public static Shape AdaptiveAvgPool2dShape(Shape x, AdaptiveAvgPool2d layer)
    {
        RequireNchw(x, layer.Name, layer.ToString(), "channels");
        if (x[2] < 1 || x[3] < 1) throw new ShapeMismatchException($"{layer.Name} ({layer}) needs a non-empty input but got {x}.");
        return new Shape(x[0], x[1], layer.OutputHeight, layer.OutputWidth);
    }

    public static Shape BatchNorm2dShape(Shape x, BatchNorm2d layer)
    {
        RequireNchw(x, layer.Name, layer.ToString(), layer.NumFeatures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (x[1] != layer.NumFeatures)
            throw new ShapeMismatchException($"{layer.Name} ({layer}) expects {layer.NumFeatures} channels but got {x} ({x[1]} channels).");
        return x;
    }

    /// <summary>What BatchNorm2d keeps for its backward: per channel the mean and 1/σ it normalised with, then a flag
    /// (1: batch statistics, training; 0: running statistics, evaluation).</summary>
    public static Shape BatchNorm2dStatsShape(BatchNorm2d layer) => new(2 * layer.NumFeatures + 1);

    public static Shape Dropout2dShape(Shape x, Dropout2d layer)
    {
        RequireNchw(x, layer.Name, layer.ToString(), "channels");
        return x;
    }

    /// <summary>One mask value per (sample, channel).</summary>
    public static Shape Dropout2dMaskShape(Shape x) => new(x[0], x[1]);

    // ---------------- Conv2d ----------------

    /// <summary>The geometry of one convolution call.</summary>
    private readonly struct ConvGeom
    {
        public ConvGeom(Conv2d layer, Shape x, Shape y)
        {
            Batch = x[0]; Cin = x[1]; H = x[2]; W = x[3];
            Cout = y[1]; Ho = y[2]; Wo = y[3];
            K = layer.KernelSize; Stride = layer.Stride; Pad = layer.Padding; Dil = layer.Dilation; Groups = layer.Groups;
        }

        public readonly int Batch, Cin, H, W, Cout, Ho, Wo, K, Stride, Pad, Dil, Groups;
        public int CinG => Cin / Groups;
        public int CoutG => Cout / Groups;
        /// <summary>Rows of a group's column matrix: its input channels × kernel taps.</summary>
        public int KDim => CinG * K * K;
        /// <summary>Output pixels per channel: the columns.</summary>
        public int P => Ho * Wo;
        public int HW => H * W;
        /// <summary>A 1×1 convolution with stride 1 and no padding: the input planes already are the column matrix.</summary>
        public bool Direct => K == 1 && Stride == 1 && Pad == 0;

        public int Parts => Math.Max(1, Math.Min(CpuParallel.ThreadCount, Batch));
    }

    /// <summary>
    /// y = act(W ⊛ x + b): per image and group, the column matrix col [Cin/g·k·k, Ho·Wo] (im2col; skipped for 1×1
    /// convolutions) and one GEMM y_g = W_g·col with the bias (per row: output channel) and activation in the epilogue.
    /// Images are split over the engine's threads, each with its own column buffer.
    /// </summary>
    public static void Conv2dForward<T, TAct>(Conv2d layer, Tensor x, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        RequireCpu(x, "Conv2d");
        KernelStats.Record("conv2d");
        var g = new ConvGeom(layer, x.Shape, y.Shape);
        var body = new ConvForwardBody<T, TAct>
        {
            G = g, X = x.Ptr<T>(), Wt = layer.Weight.Value.Ptr<T>(), Bias = layer.Bias is { } b ? b.Value.Ptr<T>() : null, Y = y.Ptr<T>(), Parts = g.Parts,
        };
        CpuParallel.ForParts(g.Parts, ref body);
    }

    private struct ConvForwardBody<T, TAct> : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        public ConvGeom G;
        public T* X, Wt, Bias, Y;
        public int Parts;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int part = start; part < end; part++)
            {
                int b0 = (int)((long)G.Batch * part / Parts), b1 = (int)((long)G.Batch * (part + 1) / Parts);
                T* col = G.Direct ? null : ConvScratch<T>.Get(ConvScratch<T>.Col, part, (long)G.KDim * G.P);
                for (int b = b0; b < b1; b++)
                    for (int grp = 0; grp < G.Groups; grp++)
                    {
                        T* xg = X + ((long)b * G.Cin + (long)grp * G.CinG) * G.HW;
                        T* src = xg;
                        if (!G.Direct)
                        {
                            Im2Col(G, xg, col);
                            src = col;
                        }
                        T* yg = Y + ((long)b * G.Cout + (long)grp * G.CoutG) * G.P;
                        CpuGemm.Run(Wt + (long)grp * G.CoutG * G.KDim, G.KDim, false, src, G.P, false, yg, G.P, G.CoutG, G.P, G.KDim, false,
                            new RowBiasActivation<T, TAct>(Bias == null ? null : Bias + (long)grp * G.CoutG));
                    }
            }
        }
    }

    /// <summary>
    /// Backward of y = act(W ⊛ x + b), with dY the gradient of y:
    ///   dZ = act'(y) ⊙ dY in place, fused with db += Σ_(n,pixels) dZ (per output channel);
    ///   dW_g += dZ_g · colᵀ          GEMM NT per image (partial sums per thread, added in a fixed order);
    ///   dcol = W_gᵀ · dZ_g           GEMM TN, then col2im adds it into dx (1×1 convolutions: straight into dx).
    /// </summary>
    public static void Conv2dBackward<T, TAct>(Conv2d layer, Tensor x, Tensor y, Tensor dy, Tensor? dx, bool accumulateDx)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        RequireCpu(x, "Conv2d");
        KernelStats.Record("conv2d-backward");
        var g = new ConvGeom(layer, x.Shape, y.Shape);
        T* db = layer.Bias is { RequiresGrad: true } bias ? bias.Grad.Ptr<T>() : null;
        if (db != null || typeof(TAct) != typeof(Identity<T>))
        {
            var act = new ChannelActivationBackward<T, TAct> { Dy = dy.Ptr<T>(), Y = y.Ptr<T>(), Db = db, Batch = g.Batch, Channels = g.Cout, Plane = g.P };
            if ((long)g.Batch * g.Cout * g.P < 32_768) act.Execute(0, g.Cout);
            else CpuParallel.For(g.Cout, 1, ref act);
        }
        bool needDw = layer.Weight.RequiresGrad;
        if (!needDw && dx is null) return;
        int parts = g.Parts;
        int weightCount = layer.Weight.Value.Count;
        var body = new ConvBackwardBody<T>
        {
            G = g, X = x.Ptr<T>(), Wt = layer.Weight.Value.Ptr<T>(), Dz = dy.Ptr<T>(), Dx = dx is null ? null : dx.Ptr<T>(),
            Dw = needDw ? layer.Weight.Grad.Ptr<T>() : null, AccumulateDx = accumulateDx, Parts = parts, WeightCount = weightCount,
        };
        CpuParallel.ForParts(parts, ref body);
        if (needDw && parts > 1)
        {
            // the per-thread partial weight gradients, added in part order (deterministic for a given thread count)
            var dw = new Span<T>(layer.Weight.Grad.Ptr<T>(), weightCount);
            for (int part = 0; part < parts; part++)
                TensorPrimitives.Add(dw, new ReadOnlySpan<T>(ConvScratch<T>.Get(ConvScratch<T>.Dw, part, weightCount), weightCount), dw);
        }
    }

    /// <summary>dZ = act'(y) ⊙ dY in place and db += Σ dZ, per output channel (a range of channels per thread).</summary>
    private struct ChannelActivationBackward<T, TAct> : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        public T* Dy, Y, Db;
        public int Batch, Channels, Plane;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            bool identity = typeof(TAct) == typeof(Identity<T>);
            for (int c = start; c < end; c++)
            {
                double sum = 0;
                for (int b = 0; b < Batch; b++)
                {
                    long offset = ((long)b * Channels + c) * Plane;
                    T* dz = Dy + offset, y = Y + offset;
                    int i = 0;
                    if (Vector512.IsHardwareAccelerated && Plane >= Vector512<T>.Count)
                    {
                        var acc = Vector512<T>.Zero;
                        for (; i <= Plane - Vector512<T>.Count; i += Vector512<T>.Count)
                        {
                            var v = Vector512.Load(dz + i);
                            if (!identity)
                            {
                                v = default(TAct).Grad(Vector512.Load(y + i), v);
                                v.Store(dz + i);
                            }
                            acc += v;
                        }
                        sum += double.CreateTruncating(Vector512.Sum(acc));
                    }
                    for (; i < Plane; i++)
                    {
                        var v = dz[i];
                        if (!identity)
                        {
                            v = default(TAct).Grad(y[i], v);
                            dz[i] = v;
                        }
                        sum += double.CreateTruncating(v);
                    }
                }
                if (Db != null) Db[c] += T.CreateTruncating(sum);
            }
        }
    }

    private struct ConvBackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public ConvGeom G;
        public T* X, Wt, Dz, Dx, Dw;
        public bool AccumulateDx;
        public int Parts, WeightCount;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            for (int part = start; part < end; part++)
            {
                int b0 = (int)((long)G.Batch * part / Parts), b1 = (int)((long)G.Batch * (part + 1) / Parts);
                long colSize = (long)G.KDim * G.P;
                T* col = G.Direct ? null : ConvScratch<T>.Get(ConvScratch<T>.Col, part, colSize);
                T* dcol = G.Direct || Dx == null ? null : ConvScratch<T>.Get(ConvScratch<T>.DCol, part, colSize);
                T* dw = Dw;
                if (Dw != null && Parts > 1)
                {
                    dw = ConvScratch<T>.Get(ConvScratch<T>.Dw, part, WeightCount);
                    new Span<T>(dw, WeightCount).Clear();
                }
                for (int b = b0; b < b1; b++)
                {
                    T* dxb = Dx == null ? null : Dx + (long)b * G.Cin * G.HW;
                    if (dxb != null && !G.Direct && !AccumulateDx) new Span<T>(dxb, G.Cin * G.HW).Clear();
                    for (int grp = 0; grp < G.Groups; grp++)
                    {
                        T* xg = X + ((long)b * G.Cin + (long)grp * G.CinG) * G.HW;
                        T* dz = Dz + ((long)b * G.Cout + (long)grp * G.CoutG) * G.P;
                        T* wg = Wt + (long)grp * G.CoutG * G.KDim;
                        if (dw != null)
                        {
                            T* src = xg;
                            if (!G.Direct)
                            {
                                Im2Col(G, xg, col);
                                src = col;
                            }
                            CpuGemm.Run(dz, G.P, false, src, G.P, true, dw + (long)grp * G.CoutG * G.KDim, G.KDim, G.CoutG, G.KDim, G.P, true, default(NoEpilogue<T>));
                        }
                        if (dxb == null) continue;
                        T* dxg = dxb + (long)grp * G.CinG * G.HW;
                        if (G.Direct)
                            CpuGemm.Run(wg, G.KDim, true, dz, G.P, false, dxg, G.P, G.KDim, G.P, G.CoutG, AccumulateDx, default(NoEpilogue<T>));
                        else
                        {
                            CpuGemm.Run(wg, G.KDim, true, dz, G.P, false, dcol, G.P, G.KDim, G.P, G.CoutG, false, default(NoEpilogue<T>));
                            Col2Im(G, dcol, dxg);
                        }
                    }
                }
            }
        }
    }

    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -((-a) / b);
    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>The output positions o in [0, count) whose input position o·stride + offset lies in [0, size).</summary>
    private static (int Lo, int Hi) ValidRange(int offset, int stride, int size, int count)
    {
        int lo = Math.Max(0, CeilDiv(-offset, stride));
        int hi = Math.Min(count, FloorDiv(size - 1 - offset, stride) + 1);
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>col[(c·k + i)·k + j, oh·Wo + ow] = x[c, oh·s − p + i·d, ow·s − p + j·d] (zero outside the input).</summary>
    private static void Im2Col<T>(in ConvGeom g, T* x, T* col) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int p = g.P;
        for (int c = 0; c < g.CinG; c++)
        {
            T* plane = x + (long)c * g.HW;
            for (int i = 0; i < g.K; i++)
            {
                int rowOffset = i * g.Dil - g.Pad;
                var (ohLo, ohHi) = ValidRange(rowOffset, g.Stride, g.H, g.Ho);
                for (int j = 0; j < g.K; j++)
                {
                    int colOffset = j * g.Dil - g.Pad;
                    var (owLo, owHi) = ValidRange(colOffset, g.Stride, g.W, g.Wo);
                    T* dst = col + (long)((c * g.K + i) * g.K + j) * p;
                    new Span<T>(dst, ohLo * g.Wo).Clear();
                    for (int oh = ohLo; oh < ohHi; oh++)
                    {
                        T* d = dst + oh * g.Wo;
                        T* src = plane + (oh * g.Stride + rowOffset) * g.W + colOffset;
                        for (int ow = 0; ow < owLo; ow++) d[ow] = T.Zero;
                        if (g.Stride == 1) new ReadOnlySpan<T>(src + owLo, owHi - owLo).CopyTo(new Span<T>(d + owLo, owHi - owLo));
                        else for (int ow = owLo; ow < owHi; ow++) d[ow] = src[ow * g.Stride];
                        for (int ow = owHi; ow < g.Wo; ow++) d[ow] = T.Zero;
                    }
                    new Span<T>(dst + ohHi * g.Wo, (g.Ho - ohHi) * g.Wo).Clear();
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col{T}"/>: dx[c, ih, iw] += dcol[...] for every tap that read it.</summary>
    private static void Col2Im<T>(in ConvGeom g, T* dcol, T* dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int p = g.P;
        for (int c = 0; c < g.CinG; c++)
        {
            T* plane = dx + (long)c * g.HW;
            for (int i = 0; i < g.K; i++)
            {
                int rowOffset = i * g.Dil - g.Pad;
                var (ohLo, ohHi) = ValidRange(rowOffset, g.Stride, g.H, g.Ho);
                for (int j = 0; j < g.K; j++)
                {
                    int colOffset = j * g.Dil - g.Pad;
                    var (owLo, owHi) = ValidRange(colOffset, g.Stride, g.W, g.Wo);
                    if (owHi <= owLo) continue;
                    T* src = dcol + (long)((c * g.K + i) * g.K + j) * p;
                    for (int oh = ohLo; oh < ohHi; oh++)
                    {
                        T* s = src + oh * g.Wo;
                        T* d = plane + (oh * g.Stride + rowOffset) * g.W + colOffset;
                        if (g.Stride == 1)
                        {
                            var dst = new Span<T>(d + owLo, owHi - owLo);
                            TensorPrimitives.Add(dst, new ReadOnlySpan<T>(s + owLo, owHi - owLo), dst);
                        }
                        else for (int ow = owLo; ow < owHi; ow++) d[ow * g.Stride] += s[ow];
                    }
                }
            }
        }
    }

    /// <summary>Per-part scratch of the convolution routines (column matrices, partial weight gradients), grown on
    /// demand and kept. Indexed by the part a thread works on, so one convolution at a time may use it: the CPU engine
    /// runs a model's ops one after the other.</summary>
    private static class ConvScratch<T> where T : unmanaged
    {
        public const int Col = 0, DCol = 1, Dw = 2;
        private static readonly nint[] Buffers = new nint[3 * CpuParallel.ThreadCount];
        private static readonly long[] Capacities = new long[3 * CpuParallel.ThreadCount];

        public static T* Get(int kind, int part, long count)
        {
            int slot = part * 3 + kind;
            if (count > Capacities[slot])
            {
                if (Buffers[slot] != 0) NativeMemory.AlignedFree((void*)Buffers[slot]);
                Buffers[slot] = (nint)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, count) * sizeof(T)), 64);
                Capacities[slot] = count;
            }
            return (T*)Buffers[slot];
        }
    }

    // ---------------- pooling ----------------

    /// <summary>y = the maximum of each window (padding never wins); keeps the winning input index per output.</summary>
    public static void MaxPool2dForward<T>(MaxPool2d layer, Tensor x, Tensor y, Tensor indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu(x, "MaxPool2d");
        KernelStats.Record("max-pool");
        var body = new PoolBody<T> { Kind = PoolKind.Max, X = x.Ptr<T>(), Y = y.Ptr<T>(), Indices = indices.Ptr<T>(), Geometry = PoolGeom.Of(x.Shape, y.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, x.Shape[0] * x.Shape[1], x.Shape.Count);
    }

    /// <summary>dx (+)= dy at each window's winning index.</summary>
    public static void MaxPool2dBackward<T>(MaxPool2d layer, Tensor dy, Tensor indices, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("max-pool-backward");
        var body = new PoolBody<T> { Kind = PoolKind.Max, Backward = true, Accumulate = accumulate, Y = dy.Ptr<T>(), Indices = indices.Ptr<T>(), X = dx.Ptr<T>(), Geometry = PoolGeom.Of(dx.Shape, dy.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, dx.Shape[0] * dx.Shape[1], dx.Shape.Count);
    }

    /// <summary>y = Σ window / k² (count_include_pad).</summary>
    public static void AvgPool2dForward<T>(AvgPool2d layer, Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu(x, "AvgPool2d");
        KernelStats.Record("avg-pool");
        var body = new PoolBody<T> { Kind = PoolKind.Average, X = x.Ptr<T>(), Y = y.Ptr<T>(), Geometry = PoolGeom.Of(x.Shape, y.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, x.Shape[0] * x.Shape[1], x.Shape.Count);
    }

    /// <summary>dx (+)= dy / k² over each window.</summary>
    public static void AvgPool2dBackward<T>(AvgPool2d layer, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("avg-pool-backward");
        var body = new PoolBody<T> { Kind = PoolKind.Average, Backward = true, Accumulate = accumulate, Y = dy.Ptr<T>(), X = dx.Ptr<T>(), Geometry = PoolGeom.Of(dx.Shape, dy.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, dx.Shape[0] * dx.Shape[1], dx.Shape.Count);
    }

    /// <summary>y[i, j] = the mean of input rows ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1 and the same columns.</summary>
    public static void AdaptiveAvgPool2dForward<T>(AdaptiveAvgPool2d layer, Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu(x, "AdaptiveAvgPool2d");
        KernelStats.Record("adaptive-avg-pool");
        var body = new PoolBody<T> { Kind = PoolKind.Adaptive, X = x.Ptr<T>(), Y = y.Ptr<T>(), Geometry = PoolGeom.Of(x.Shape, y.Shape, 0, 0, 0) };
        RunPlanes(ref body, x.Shape[0] * x.Shape[1], x.Shape.Count);
    }

    public static void AdaptiveAvgPool2dBackward<T>(AdaptiveAvgPool2d layer, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("adaptive-avg-pool-backward");
        var body = new PoolBody<T> { Kind = PoolKind.Adaptive, Backward = true, Accumulate = accumulate, Y = dy.Ptr<T>(), X = dx.Ptr<T>(), Geometry = PoolGeom.Of(dx.Shape, dy.Shape, 0, 0, 0) };
        RunPlanes(ref body, dx.Shape[0] * dx.Shape[1], dx.Shape.Count);
    }

    private static void RunPlanes<TBody>(ref TBody body, int planes, int elements) where TBody : struct, IRangeBody
    {
        if (elements < 32_768) body.Execute(0, planes);
        else CpuParallel.For(planes, 1, ref body);
    }

    private enum PoolKind { Max, Average, Adaptive }

    private readonly struct PoolGeom
    {
        public readonly int H, W, Ho, Wo, K, Stride, Pad;

        private PoolGeom(int h, int w, int ho, int wo, int k, int stride, int pad)
        {
            H = h; W = w; Ho = ho; Wo = wo; K = k; Stride = stride; Pad = pad;
        }

        public static PoolGeom Of(Shape x, Shape y, int k, int stride, int pad) => new(x[2], x[3], y[2], y[3], k, stride, pad);

        /// <summary>The window of output (oh, ow), clipped to the input; <paramref name="divisor"/> for averages.</summary>
        public void Window(PoolKind kind, int oh, int ow, out int h0, out int h1, out int w0, out int w1, out int divisor)
        {
            if (kind == PoolKind.Adaptive)
            {
                h0 = oh * H / Ho; h1 = ((oh + 1) * H + Ho - 1) / Ho;
                w0 = ow * W / Wo; w1 = ((ow + 1) * W + Wo - 1) / Wo;
                divisor = (h1 - h0) * (w1 - w0);
                return;
            }
            h0 = oh * Stride - Pad; w0 = ow * Stride - Pad;
            h1 = Math.Min(h0 + K, H); w1 = Math.Min(w0 + K, W);
            h0 = Math.Max(h0, 0); w0 = Math.Max(w0, 0);
            divisor = K * K;
        }
    }

    /// <summary>Forward or backward of a pooling op over a range of (sample, channel) planes. X/Y are the input/output
    /// (forward) or dx/dy (backward).</summary>
    private struct PoolBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y, Indices;
        public PoolGeom Geometry;
        public PoolKind Kind;
        public bool Backward, Accumulate;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            var g = Geometry;
            int inPlane = g.H * g.W, outPlane = g.Ho * g.Wo;
            for (int plane = start; plane < end; plane++)
            {
                T* x = X + (long)plane * inPlane, y = Y + (long)plane * outPlane;
                T* idx = Indices == null ? null : Indices + (long)plane * outPlane;
                if (Backward && !Accumulate) new Span<T>(x, inPlane).Clear();
                if (Kind == PoolKind.Max)
                {
                    if (Backward)
                        for (int o = 0; o < outPlane; o++) x[int.CreateTruncating(idx[o])] += y[o];
                    else if (g.K == 2 && g.Stride == 2 && g.Pad == 0 && typeof(T) == typeof(float)) MaxPool2x2(g, (float*)x, (float*)y, (float*)idx);
                    else MaxPlane(g, x, y, idx);
                    continue;
                }
                for (int oh = 0; oh < g.Ho; oh++)
                    for (int ow = 0; ow < g.Wo; ow++)
                    {
                        int o = oh * g.Wo + ow;
                        g.Window(Kind, oh, ow, out int h0, out int h1, out int w0, out int w1, out int divisor);
                        T inv = T.One / T.CreateTruncating(divisor);
                        if (Backward)
                        {
                            T share = y[o] * inv;
                            for (int ih = h0; ih < h1; ih++)
                                for (int iw = w0; iw < w1; iw++) x[ih * g.W + iw] += share;
                            continue;
                        }
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += x[ih * g.W + iw];
                        y[o] = sum * inv;
                    }
            }
        }

        /// <summary>The maximum of each window and its index; like PyTorch, a later value wins when it is greater or NaN.</summary>
        private static void MaxPlane(in PoolGeom g, T* x, T* y, T* idx)
        {
            for (int oh = 0; oh < g.Ho; oh++)
            {
                int h0 = oh * g.Stride - g.Pad, h1 = Math.Min(h0 + g.K, g.H);
                h0 = Math.Max(h0, 0);
                for (int ow = 0; ow < g.Wo; ow++)
                {
                    int w0 = ow * g.Stride - g.Pad, w1 = Math.Min(w0 + g.K, g.W);
                    w0 = Math.Max(w0, 0);
                    T max = T.NegativeInfinity;
                    int best = h0 * g.W + w0;
                    for (int ih = h0; ih < h1; ih++)
                    {
                        T* row = x + ih * g.W;
                        for (int iw = w0; iw < w1; iw++)
                        {
                            T v = row[iw];
                            if (v > max || T.IsNaN(v))
                            {
                                max = v;
                                best = ih * g.W + iw;
                            }
                        }
                    }
                    y[oh * g.Wo + ow] = max;
                    idx[oh * g.Wo + ow] = T.CreateTruncating(best);
                }
            }
        }

        /// <summary>MaxPool2d(2) in float32, the common case: four values per output from two rows, selected without
        /// branches (random data makes every comparison a coin flip for the branch predictor).</summary>
        private static void MaxPool2x2(in PoolGeom g, float* x, float* y, float* idx)
        {
            for (int oh = 0; oh < g.Ho; oh++)
            {
                int top = 2 * oh * g.W;
                float* r0 = x + top, r1 = r0 + g.W;
                float* yo = y + oh * g.Wo, io = idx + oh * g.Wo;
                for (int ow = 0; ow < g.Wo; ow++)
                {
                    int c = 2 * ow;
                    float max = r0[c];
                    int best = top + c;
                    Take(ref max, ref best, r0[c + 1], top + c + 1);
                    Take(ref max, ref best, r1[c], top + g.W + c);
                    Take(ref max, ref best, r1[c + 1], top + g.W + c + 1);
                    yo[ow] = max;
                    io[ow] = best;
                }
            }
        }

        /// <summary>max, best = v, at when v &gt; max or v is NaN (PyTorch's rule), as bit masks.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void Take(ref float max, ref int best, float v, int at)
        {
            int take = -System.Runtime.CompilerServices.Unsafe.BitCast<bool, byte>((v > max) | float.IsNaN(v));
            max = BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(v) & take) | (BitConverter.SingleToInt32Bits(max) & ~take));
            best = (at & take) | (best & ~take);
        }
    }

    // ---------------- BatchNorm2d ----------------

    /// <summary>
    /// Training: per channel, mean and biased variance over (batch, height, width); y = (x − mean)/√(var + eps)·w + b;
    /// running_mean and running_var move towards the batch's mean and unbiased variance by the momentum, and
    /// num_batches_tracked counts the batch. Evaluation: the same with the running statistics. Keeps (mean, 1/σ) per
    /// channel and the mode for the backward.
    /// </summary>
    public static void BatchNorm2dForward<T>(BatchNorm2d layer, Tensor x, Tensor y, Tensor stats, bool training) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu(x, "BatchNorm2d");
        KernelStats.Record("batch-norm");
        int batch = x.Shape[0], channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        if (training && (long)batch * plane < 2)
            throw new ArgumentException($"{layer.Name} ({layer}): training needs more than one value per channel to estimate a variance, but got input {x.Shape} (use Eval() for single values).");
        var body = new BatchNormBody<T>
        {
            X = x.Ptr<T>(), Y = y.Ptr<T>(), Stats = stats.Ptr<T>(), W = layer.Weight.Value.Ptr<T>(), B = layer.Bias.Value.Ptr<T>(),
            RunningMean = layer.RunningMean.Value.Ptr<T>(), RunningVar = layer.RunningVar.Value.Ptr<T>(),
            Batch = batch, Channels = channels, Plane = plane, Eps = layer.Eps, Momentum = layer.Momentum, Training = training,
        };
        if ((long)batch * channels * plane < 32_768) body.Execute(0, channels);
        else CpuParallel.For(channels, 1, ref body);
        stats.Ptr<T>()[2 * channels] = training ? T.One : T.Zero;
        if (training) layer.NumBatchesTracked.Value.Ptr<T>()[0] += T.One;
    }

    /// <summary>
    /// Backward of BatchNorm2d per channel (N = batch·height·width values, x̂ = (x − mean)/σ):
    ///   dw += Σ dy·x̂,  db += Σ dy;
    ///   training (batch statistics): dx (+)= w/σ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N);
    ///   evaluation (running statistics are constants): dx (+)= w/σ · dy.
    /// </summary>
    public static void BatchNorm2dBackward<T>(BatchNorm2d layer, Tensor x, Tensor dy, Tensor stats, Tensor? dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("batch-norm-backward");
        int batch = x.Shape[0], channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        var body = new BatchNormBody<T>
        {
            X = x.Ptr<T>(), Y = dy.Ptr<T>(), Stats = stats.Ptr<T>(), W = layer.Weight.Value.Ptr<T>(),
            Dw = layer.Weight.RequiresGrad ? layer.Weight.Grad.Ptr<T>() : null, Db = layer.Bias.RequiresGrad ? layer.Bias.Grad.Ptr<T>() : null,
            Dx = dx is null ? null : dx.Ptr<T>(), Accumulate = accumulate,
            Batch = batch, Channels = channels, Plane = plane, Training = stats.Ptr<T>()[2 * channels] != T.Zero, Backward = true,
        };
        if ((long)batch * channels * plane < 32_768) body.Execute(0, channels);
        else CpuParallel.For(channels, 1, ref body);
    }

    private struct BatchNormBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y, Stats, W, B, RunningMean, RunningVar, Dw, Db, Dx;
        public int Batch, Channels, Plane;
        public double Eps, Momentum;
        public bool Training, Backward, Accumulate;

        private readonly T* At(T* p, int b, int c) => p + ((long)b * Channels + c) * Plane;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            long n = (long)Batch * Plane;
            for (int c = start; c < end; c++)
            {
                if (Backward)
                {
                    BackwardChannel(c, n);
                    continue;
                }
                double mean, rstd;
                if (Training)
                {
                    // two passes (mean, then the squared deviations), vector lanes per plane summed in double
                    double sum = 0;
                    for (int b = 0; b < Batch; b++) sum += ChannelMath<T>.Sum(At(X, b, c), Plane);
                    mean = sum / n;
                    double sq = 0;
                    T tm = T.CreateTruncating(mean);
                    for (int b = 0; b < Batch; b++) sq += ChannelMath<T>.SquaredDeviation(At(X, b, c), Plane, tm);
                    rstd = 1 / Math.Sqrt(sq / n + Eps);
                    RunningMean[c] = T.CreateTruncating((1 - Momentum) * double.CreateTruncating(RunningMean[c]) + Momentum * mean);
                    RunningVar[c] = T.CreateTruncating((1 - Momentum) * double.CreateTruncating(RunningVar[c]) + Momentum * sq / (n - 1));
                }
                else
                {
                    mean = double.CreateTruncating(RunningMean[c]);
                    rstd = 1 / Math.Sqrt(double.CreateTruncating(RunningVar[c]) + Eps);
                }
                Stats[2 * c] = T.CreateTruncating(mean);
                Stats[2 * c + 1] = T.CreateTruncating(rstd);
                // y = x·scale + shift with scale = w/σ, shift = b − mean·w/σ
                double scale = double.CreateTruncating(W[c]) * rstd;
                T tScale = T.CreateTruncating(scale), tShift = T.CreateTruncating(double.CreateTruncating(B[c]) - mean * scale);
                for (int b = 0; b < Batch; b++) ChannelMath<T>.Affine(At(X, b, c), null, At(Y, b, c), Plane, tScale, T.Zero, tShift, false);
            }
        }

        private readonly void BackwardChannel(int c, long n)
        {
            T mean = Stats[2 * c];
            double rstd = double.CreateTruncating(Stats[2 * c + 1]);
            double sumDy = 0, sumDyCentered = 0;
            for (int b = 0; b < Batch; b++)
            {
                var (s, d) = ChannelMath<T>.SumAndCenteredDot(At(Y, b, c), At(X, b, c), Plane, mean);
                sumDy += s;
                sumDyCentered += d;
            }
            double sumDyXhat = sumDyCentered * rstd;
            if (Dw != null) Dw[c] += T.CreateTruncating(sumDyXhat);
            if (Db != null) Db[c] += T.CreateTruncating(sumDy);
            if (Dx == null) return;
            double k = double.CreateTruncating(W[c]) * rstd;
            // dx = k·(dy − Σdy/N − x̂·Σ(dy·x̂)/N) = k·dy + (α·x + β) with α = −k·rstd·Σ(dy·x̂)/N, β = −k·Σdy/N − mean·α
            double alpha = Training ? -k * rstd * sumDyXhat / n : 0;
            double beta = Training ? -k * sumDy / n - double.CreateTruncating(mean) * alpha : 0;
            T tk = T.CreateTruncating(k), ta = T.CreateTruncating(alpha), tb = T.CreateTruncating(beta);
            for (int b = 0; b < Batch; b++) ChannelMath<T>.Affine(At(X, b, c), At(Y, b, c), At(Dx, b, c), Plane, ta, tk, tb, Accumulate);
        }
    }

    /// <summary>Vectorised per-plane loops of BatchNorm2d (Vector512, Vector256 or scalar); sums come back in double.</summary>
    private static class ChannelMath<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static double Sum(T* x, int n)
        {
            int i = 0;
            double s = 0;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            {
                var acc = Vector512<T>.Zero;
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count) acc += Vector512.Load(x + i);
                s = double.CreateTruncating(Vector512.Sum(acc));
            }
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) acc += Vector256.Load(x + i);
                s = double.CreateTruncating(Vector256.Sum(acc));
            }
            for (; i < n; i++) s += double.CreateTruncating(x[i]);
            return s;
        }

        /// <summary>Σ (x − mean)².</summary>
        public static double SquaredDeviation(T* x, int n, T mean)
        {
            int i = 0;
            double s = 0;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            {
                var acc = Vector512<T>.Zero;
                var m = Vector512.Create(mean);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var d = Vector512.Load(x + i) - m;
                    acc += d * d;
                }
                s = double.CreateTruncating(Vector512.Sum(acc));
            }
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                var acc = Vector256<T>.Zero;
                var m = Vector256.Create(mean);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var d = Vector256.Load(x + i) - m;
                    acc += d * d;
                }
                s = double.CreateTruncating(Vector256.Sum(acc));
            }
            for (; i < n; i++)
            {
                double d = double.CreateTruncating(x[i] - mean);
                s += d * d;
            }
            return s;
        }

        /// <summary>(Σ dy, Σ dy·(x − mean)).</summary>
        public static (double Sum, double Dot) SumAndCenteredDot(T* dy, T* x, int n, T mean)
        {
            int i = 0;
            double s = 0, d = 0;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
            {
                Vector512<T> accS = Vector512<T>.Zero, accD = Vector512<T>.Zero, m = Vector512.Create(mean);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var g = Vector512.Load(dy + i);
                    accS += g;
                    accD += g * (Vector512.Load(x + i) - m);
                }
                s = double.CreateTruncating(Vector512.Sum(accS));
                d = double.CreateTruncating(Vector512.Sum(accD));
            }
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
            {
                Vector256<T> accS = Vector256<T>.Zero, accD = Vector256<T>.Zero, m = Vector256.Create(mean);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var g = Vector256.Load(dy + i);
                    accS += g;
                    accD += g * (Vector256.Load(x + i) - m);
                }
                s = double.CreateTruncating(Vector256.Sum(accS));
                d = double.CreateTruncating(Vector256.Sum(accD));
            }
            for (; i < n; i++)
            {
                s += double.CreateTruncating(dy[i]);
                d += double.CreateTruncating(dy[i] * (x[i] - mean));
            }
            return (s, d);
        }

        /// <summary>out (+)= a·x + k·dy + b (dy may be null: out = a·x + b).</summary>
        public static void Affine(T* x, T* dy, T* output, int n, T a, T k, T b, bool accumulate)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<T> va = Vector512.Create(a), vk = Vector512.Create(k), vb = Vector512.Create(b);
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var v = Vector512.Load(x + i) * va + vb;
                    if (dy != null) v += Vector512.Load(dy + i) * vk;
                    if (accumulate) v += Vector512.Load(output + i);
                    v.Store(output + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<T> va = Vector256.Create(a), vk = Vector256.Create(k), vb = Vector256.Create(b);
                for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var v = Vector256.Load(x + i) * va + vb;
                    if (dy != null) v += Vector256.Load(dy + i) * vk;
                    if (accumulate) v += Vector256.Load(output + i);
                    v.Store(output + i);
                }
            }
            for (; i < n; i++)
            {
                T v = x[i] * a + b;
                if (dy != null) v += dy[i] * k;
                output[i] = accumulate ? output[i] + v : v;
            }
        }
    }

    // ---------------- Dropout2d ----------------

    /// <summary>Training: mask[n, c] = (u ≥ p)/(1 − p) drawn from (seed, step, layer, n·C + c); y = x ⊙ mask per plane.</summary>
    public static void Dropout2d<T>(Dropout2d layer, Tensor x, Tensor mask, Tensor y, int seed, ulong step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu(x, "Dropout2d");
        KernelStats.Record("dropout2d");
        ulong h = 14695981039346656037UL;
        foreach (char ch in layer.Name) h = (h ^ ch) * 1099511628211UL;
        ulong key = Rng.Mix(Rng.Mix((ulong)seed ^ h) ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL));
        T keep = T.CreateTruncating(1.0 / (1.0 - layer.P));
        T* m = mask.Ptr<T>();
        for (int i = 0; i < mask.Count; i++) m[i] = Rng.Uniform(key, (ulong)i) >= layer.P ? keep : T.Zero;
        ScalePlanes<T>(x.Ptr<T>(), m, y.Ptr<T>(), mask.Count, x.Count / Math.Max(1, mask.Count), false);
    }

    /// <summary>Evaluation: y = x and an all-ones mask (so the backward is the same code).</summary>
    public static void Dropout2dIdentity<T>(Tensor x, Tensor mask, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireCpu(x, "Dropout2d");
        KernelStats.Record("copy");
        x.AsSpan<T>().CopyTo(y.AsSpan<T>());
        mask.AsSpan<T>().Fill(T.One);
    }

    /// <summary>dx (+)= dy ⊙ mask per plane.</summary>
    public static void Dropout2dBackward<T>(Tensor dy, Tensor mask, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("dropout2d-backward");
        ScalePlanes<T>(dy.Ptr<T>(), mask.Ptr<T>(), dx.Ptr<T>(), mask.Count, dx.Count / Math.Max(1, mask.Count), accumulate);
    }

    private static void ScalePlanes<T>(T* x, T* scale, T* y, int planes, int plane, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = 0; p < planes; p++)
        {
            var src = new ReadOnlySpan<T>(x + (long)p * plane, plane);
            var dst = new Span<T>(y + (long)p * plane, plane);
            if (accumulate) TensorPrimitives.MultiplyAdd(src, scale[p], dst, dst);
            else TensorPrimitives.Multiply(src, scale[p], dst);
        }
    }
}
