using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Conv2d's runtime routines: shape rule, CPU forward and backward (NCHW; GEMMs over im2col matrices with the bias and activation in the epilogue), and the NCHW shape guards the other 2-d ops share; ILGPU form: im2col kernel, the ILGPU GEMM with the same epilogue, col2im by gathering (generator rule: src/Generators/Ops/Conv2d.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- shared: run-time shape guards ----------------
    // CheckExampleShape is called by the generated model code for [Shape(...)] inputs; RequireNchw is also used by the
    // shape rules in Ops/Pool2d.cs, Ops/BatchNorm2d.cs and Ops/Dropout2d.cs.

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

    // ---------------- Conv2d ----------------

    /// <summary>The geometry of one convolution call (also the ILGPU kernels' argument: ints only).</summary>
    internal readonly struct ConvGeom
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
        if (!x.Device.IsCpu) { Conv2dForwardGpu(layer, x, y, GpuOps.ActivationCode(typeof(TAct))); return; }
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
        if (!x.Device.IsCpu) { Conv2dBackwardGpu(layer, x, y, dy, dx, accumulateDx, GpuOps.ActivationCode(typeof(TAct))); return; }
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

    // ---------------- ILGPU ----------------

    /// <summary>The geometry of a convolution call on the ILGPU engine, after checking that every tensor has the size it
    /// implies (the kernels index without bounds checks).</summary>
    private static ConvGeom GpuConvGeom(Conv2d layer, Tensor x, Tensor y, string what)
    {
        var expected = Conv2dShape(x.Shape, layer);
        if (!expected.Equals(y.Shape)) throw new ShapeMismatchException($"{what}: {layer.Name} maps {x.Shape} to {expected}, not {y.Shape}.");
        var g = new ConvGeom(layer, x.Shape, y.Shape);
        if (g.Cin % g.Groups != 0 || g.Cout % g.Groups != 0)
            throw new ShapeMismatchException($"{what}: {layer.Name} has {g.Cin} input and {g.Cout} output channels, not divisible by {g.Groups} groups.");
        if (layer.Weight.Value.Count != g.Cout * g.KDim)
            throw new ShapeMismatchException($"{what}: {layer.Name}.weight {layer.Weight.Value.Shape} does not hold {g.Cout}×{g.KDim} values.");
        if (layer.Bias is { } b && b.Value.Count != g.Cout)
            throw new ShapeMismatchException($"{what}: {layer.Name}.bias {b.Value.Shape} does not hold {g.Cout} values.");
        if ((long)g.KDim * g.P > int.MaxValue)
            throw new ArgumentException($"{what}: {layer.Name}'s column matrix of {g.KDim}×{g.P} values is too large for one kernel launch.");
        foreach (var t in (ReadOnlySpan<Tensor?>)[y, layer.Weight.Value, layer.Bias?.Value])
            if (t is not null && !ReferenceEquals(t.Device, x.Device))
                throw new ArgumentException($"{what}: tensors on {x.Device.Name} and {t.Device.Name}.");
        return g;
    }

    private static void Conv2dForwardGpu(Conv2d layer, Tensor x, Tensor y, int activation)
    {
        var g = GpuConvGeom(layer, x, y, "Conv2d");
        KernelStats.Record("conv2d");
        var device = GpuOps.Dev(x);
        int colSize = g.KDim * g.P, inBlock = g.CinG * g.HW, outBlock = g.CoutG * g.P, weightBlock = g.CoutG * g.KDim;
        var col = g.Direct ? default : device.Scratch("conv2d-col", colSize);
        var im2col = device.Launcher("conv2d-im2col", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvGeom>(Im2ColKernel));
        ArrayView<float> xv = x.GpuView, yv = y.GpuView, wv = layer.Weight.Value.GpuView;
        ArrayView<float>? bias = layer.Bias?.Value.GpuView;
        for (int b = 0; b < g.Batch; b++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                var xg = xv.SubView(((long)b * g.Cin + (long)grp * g.CinG) * g.HW, inBlock);
                var src = xg;
                if (!g.Direct)
                {
                    im2col(colSize, xg, col, g);
                    src = col;
                }
                var yg = yv.SubView(((long)b * g.Cout + (long)grp * g.CoutG) * g.P, outBlock);
                GpuOps.Gemm(device, wv.SubView((long)grp * weightBlock, weightBlock), false, src, false, yg, g.CoutG, g.P, g.KDim, false,
                    bias is { } bv ? bv.SubView((long)grp * g.CoutG, g.CoutG) : yg.SubView(0, 1), bias is not null, true, activation);
            }
    }

    private static void Conv2dBackwardGpu(Conv2d layer, Tensor x, Tensor y, Tensor dy, Tensor? dx, bool accumulateDx, int activation)
    {
        var g = GpuConvGeom(layer, x, y, "Conv2d backward");
        GpuOps.Same(y, dy, "Conv2d backward");
        if (dx is not null) GpuOps.Same(x, dx, "Conv2d backward");
        KernelStats.Record("conv2d-backward");
        var device = GpuOps.Dev(x);
        bool hasDb = layer.Bias is { RequiresGrad: true };
        if (hasDb || activation != 0)
        {
            var act = device.Launcher("conv2d-activation-backward", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(ConvActivationBackwardKernel));
            act(g.Cout, dy.GpuView, y.GpuView, hasDb ? layer.Bias!.Grad.GpuView : dy.GpuView.SubView(0, 1), g.Batch, g.Cout, g.P, activation, hasDb ? 1 : 0);
        }
        bool needDw = layer.Weight.RequiresGrad;
        if (!needDw && dx is null) return;
        int colSize = g.KDim * g.P, inBlock = g.CinG * g.HW, outBlock = g.CoutG * g.P, weightBlock = g.CoutG * g.KDim;
        var col = g.Direct || !needDw ? default : device.Scratch("conv2d-col", colSize);
        var dcol = g.Direct || dx is null ? default : device.Scratch("conv2d-dcol", colSize);
        var im2col = device.Launcher("conv2d-im2col", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvGeom>(Im2ColKernel));
        var col2im = device.Launcher("conv2d-col2im", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvGeom, int>(Col2ImKernel));
        ArrayView<float> xv = x.GpuView, dzv = dy.GpuView, wv = layer.Weight.Value.GpuView;
        ArrayView<float> dwv = needDw ? layer.Weight.Grad.GpuView : default, dxv = dx is null ? default : dx.GpuView;
        var noBias = dzv.SubView(0, 1);
        // images in order, so the weight gradient's sum has a fixed order
        for (int b = 0; b < g.Batch; b++)
            for (int grp = 0; grp < g.Groups; grp++)
            {
                var xg = xv.SubView(((long)b * g.Cin + (long)grp * g.CinG) * g.HW, inBlock);
                var dz = dzv.SubView(((long)b * g.Cout + (long)grp * g.CoutG) * g.P, outBlock);
                var wg = wv.SubView((long)grp * weightBlock, weightBlock);
                if (needDw)
                {
                    var src = xg;
                    if (!g.Direct)
                    {
                        im2col(colSize, xg, col, g);
                        src = col;
                    }
                    GpuOps.Gemm(device, dz, false, src, true, dwv.SubView((long)grp * weightBlock, weightBlock), g.CoutG, g.KDim, g.P, true, noBias, false, false, 0);
                }
                if (dx is null) continue;
                var dxg = dxv.SubView(((long)b * g.Cin + (long)grp * g.CinG) * g.HW, inBlock);
                if (g.Direct)
                    GpuOps.Gemm(device, wg, true, dz, false, dxg, g.KDim, g.P, g.CoutG, accumulateDx, noBias, false, false, 0);
                else
                {
                    GpuOps.Gemm(device, wg, true, dz, false, dcol, g.KDim, g.P, g.CoutG, false, noBias, false, false, 0);
                    col2im(inBlock, dcol, dxg, g, accumulateDx ? 1 : 0);
                }
            }
    }

    /// <summary>One thread per element of a group's column matrix [Cin/g·k·k, Ho·Wo]:
    /// col[(c·k + i)·k + j, oh·Wo + ow] = x[c, oh·s − p + i·d, ow·s − p + j·d], zero outside the input.</summary>
    [Gpu.GpuKernel]
    internal static void Im2ColKernel(Index1D index, ArrayView<float> x, ArrayView<float> col, ConvGeom g)
    {
        int row = index / g.P, pixel = index - row * g.P;
        int oh = pixel / g.Wo, ow = pixel - oh * g.Wo;
        int taps = g.K * g.K;
        int c = row / taps, tap = row - c * taps;
        int i = tap / g.K, j = tap - i * g.K;
        int ih = oh * g.Stride - g.Pad + i * g.Dil, iw = ow * g.Stride - g.Pad + j * g.Dil;
        col[index] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[(c * g.H + ih) * g.W + iw] : 0f;
    }

    /// <summary>The adjoint of <see cref="Im2ColKernel"/>, one thread per element of a group's input gradient (no atomics):
    /// dx[c, ih, iw] (+)= Σ dcol[(c·k + i)·k + j, oh·Wo + ow] over the taps with oh·s − p + i·d = ih and ow·s − p + j·d = iw,
    /// in tap order.</summary>
    [Gpu.GpuKernel]
    internal static void Col2ImKernel(Index1D index, ArrayView<float> dcol, ArrayView<float> dx, ConvGeom g, int accumulate)
    {
        int c = index / g.HW, at = index - c * g.HW;
        int ih = at / g.W, iw = at - ih * g.W;
        float sum = 0f;
        for (int i = 0; i < g.K; i++)
        {
            int th = ih + g.Pad - i * g.Dil;
            if (th < 0 || th % g.Stride != 0) continue;
            int oh = th / g.Stride;
            if (oh >= g.Ho) continue;
            for (int j = 0; j < g.K; j++)
            {
                int tw = iw + g.Pad - j * g.Dil;
                if (tw < 0 || tw % g.Stride != 0) continue;
                int ow = tw / g.Stride;
                if (ow >= g.Wo) continue;
                sum += dcol[((c * g.K + i) * g.K + j) * g.P + oh * g.Wo + ow];
            }
        }
        dx[index] = accumulate != 0 ? dx[index] + sum : sum;
    }

    /// <summary>One thread per output channel c: dZ = act'(y) ⊙ dY in place over the batch's planes of c, and
    /// db[c] += Σ dZ (summed in double, images in order).</summary>
    [Gpu.GpuKernel]
    internal static void ConvActivationBackwardKernel(Index1D c, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> db,
        int batch, int channels, int plane, int activation, int hasDb)
    {
        double sum = 0;
        for (int b = 0; b < batch; b++)
        {
            int offset = (b * channels + c) * plane;
            for (int i = 0; i < plane; i++)
            {
                float v = dy[offset + i];
                if (activation != 0)
                {
                    v = GpuMath.ActivationGrad(activation, y[offset + i], v);
                    dy[offset + i] = v;
                }
                sum += v;
            }
        }
        if (hasDb != 0) db[c] += (float)sum;
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
}
