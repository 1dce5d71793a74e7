using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>MaxPool2d, AvgPool2d and AdaptiveAvgPool2d's runtime routines: shape rule, CPU forward and backward, and ILGPU form (generator rule: src/Generators/Ops/Pool2d.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- pooling ----------------

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

    /// <summary>y = the maximum of each window (padding never wins); keeps the winning input index per output.</summary>
    public static void MaxPool2dForward<T>(MaxPool2d layer, Tensor x, Tensor y, Tensor indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { MaxPool2dForwardGpu(layer, x, y, indices); return; }
        KernelStats.Record("max-pool");
        var body = new PoolBody<T> { Kind = PoolKind.Max, X = x.Ptr<T>(), Y = y.Ptr<T>(), Indices = indices.Ptr<T>(), Geometry = PoolGeom.Of(x.Shape, y.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, x.Shape[0] * x.Shape[1], x.Shape.Count);
    }

    /// <summary>dx (+)= dy at each window's winning index.</summary>
    public static void MaxPool2dBackward<T>(MaxPool2d layer, Tensor dy, Tensor indices, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { MaxPool2dBackwardGpu(layer, dy, indices, dx, accumulate); return; }
        KernelStats.Record("max-pool-backward");
        var body = new PoolBody<T> { Kind = PoolKind.Max, Backward = true, Accumulate = accumulate, Y = dy.Ptr<T>(), Indices = indices.Ptr<T>(), X = dx.Ptr<T>(), Geometry = PoolGeom.Of(dx.Shape, dy.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, dx.Shape[0] * dx.Shape[1], dx.Shape.Count);
    }

    /// <summary>y = Σ window / k² (count_include_pad).</summary>
    public static void AvgPool2dForward<T>(AvgPool2d layer, Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { AvgPool2dForwardGpu(x, y, PoolGeom.Of(x.Shape, y.Shape, layer.KernelSize, layer.Stride, layer.Padding), adaptive: false, "avg-pool"); return; }
        KernelStats.Record("avg-pool");
        var body = new PoolBody<T> { Kind = PoolKind.Average, X = x.Ptr<T>(), Y = y.Ptr<T>(), Geometry = PoolGeom.Of(x.Shape, y.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, x.Shape[0] * x.Shape[1], x.Shape.Count);
    }

    /// <summary>dx (+)= dy / k² over each window.</summary>
    public static void AvgPool2dBackward<T>(AvgPool2d layer, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { AvgPool2dBackwardGpu(dy, dx, layer.KernelSize, layer.Stride, layer.Padding, adaptive: false, accumulate, "avg-pool-backward"); return; }
        KernelStats.Record("avg-pool-backward");
        var body = new PoolBody<T> { Kind = PoolKind.Average, Backward = true, Accumulate = accumulate, Y = dy.Ptr<T>(), X = dx.Ptr<T>(), Geometry = PoolGeom.Of(dx.Shape, dy.Shape, layer.KernelSize, layer.Stride, layer.Padding) };
        RunPlanes(ref body, dx.Shape[0] * dx.Shape[1], dx.Shape.Count);
    }

    /// <summary>y[i, j] = the mean of input rows ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1 and the same columns.</summary>
    public static void AdaptiveAvgPool2dForward<T>(AdaptiveAvgPool2d layer, Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { AvgPool2dForwardGpu(x, y, PoolGeom.Of(x.Shape, y.Shape, 0, 0, 0), adaptive: true, "adaptive-avg-pool"); return; }
        KernelStats.Record("adaptive-avg-pool");
        var body = new PoolBody<T> { Kind = PoolKind.Adaptive, X = x.Ptr<T>(), Y = y.Ptr<T>(), Geometry = PoolGeom.Of(x.Shape, y.Shape, 0, 0, 0) };
        RunPlanes(ref body, x.Shape[0] * x.Shape[1], x.Shape.Count);
    }

    public static void AdaptiveAvgPool2dBackward<T>(AdaptiveAvgPool2d layer, Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { AvgPool2dBackwardGpu(dy, dx, 0, 0, 0, adaptive: true, accumulate, "adaptive-avg-pool-backward"); return; }
        KernelStats.Record("adaptive-avg-pool-backward");
        var body = new PoolBody<T> { Kind = PoolKind.Adaptive, Backward = true, Accumulate = accumulate, Y = dy.Ptr<T>(), X = dx.Ptr<T>(), Geometry = PoolGeom.Of(dx.Shape, dy.Shape, 0, 0, 0) };
        RunPlanes(ref body, dx.Shape[0] * dx.Shape[1], dx.Shape.Count);
    }

    private static void RunPlanes<TBody>(ref TBody body, int planes, int elements) where TBody : struct, IRangeBody
    {
        if (elements < 32_768) body.Execute(0, planes);
        else CpuParallel.For(planes, 1, ref body);
    }

    internal enum PoolKind { Max, Average, Adaptive }

    /// <summary>The geometry of one pooling call (also the ILGPU kernels' argument: ints only).</summary>
    internal readonly struct PoolGeom
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

    // ---------------- ILGPU ----------------

    /// <summary>Checks an NCHW input/output pair for the pooling kernels (which index without bounds checks) and gives
    /// the number of (sample, channel) planes.</summary>
    private static int GpuPoolPlanes(Tensor x, Tensor y, string what)
    {
        if (x.Shape.Rank != 4 || y.Shape.Rank != 4 || x.Shape[0] != y.Shape[0] || x.Shape[1] != y.Shape[1])
            throw new ShapeMismatchException($"{what}: input {x.Shape} and output {y.Shape} are not NCHW tensors of the same batch and channels.");
        if (x.Shape[2] < 1 || x.Shape[3] < 1 || y.Shape[2] < 1 || y.Shape[3] < 1)
            throw new ShapeMismatchException($"{what}: empty planes in {x.Shape} → {y.Shape}.");
        if (!ReferenceEquals(x.Device, y.Device)) throw new ArgumentException($"{what}: tensors on {x.Device.Name} and {y.Device.Name}.");
        return x.Shape[0] * x.Shape[1];
    }

    private static void MaxPool2dForwardGpu(MaxPool2d layer, Tensor x, Tensor y, Tensor indices)
    {
        GpuPoolPlanes(x, y, "MaxPool2d");
        GpuOps.Same(y, indices, "MaxPool2d indices");
        KernelStats.Record("max-pool");
        var kernel = GpuOps.Dev(x).Launcher("max-pool", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolGeom>(MaxPoolKernel));
        kernel(y.Count, x.GpuView, y.GpuView, indices.GpuView, PoolGeom.Of(x.Shape, y.Shape, layer.KernelSize, layer.Stride, layer.Padding));
    }

    private static void MaxPool2dBackwardGpu(MaxPool2d layer, Tensor dy, Tensor indices, Tensor dx, bool accumulate)
    {
        int planes = GpuPoolPlanes(dx, dy, "MaxPool2d backward");
        GpuOps.Same(dy, indices, "MaxPool2d backward indices");
        KernelStats.Record("max-pool-backward");
        var kernel = GpuOps.Dev(dx).Launcher("max-pool-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolGeom, int>(MaxPoolBackwardKernel));
        kernel(planes, dy.GpuView, indices.GpuView, dx.GpuView, PoolGeom.Of(dx.Shape, dy.Shape, layer.KernelSize, layer.Stride, layer.Padding), accumulate ? 1 : 0);
    }

    private static void AvgPool2dForwardGpu(Tensor x, Tensor y, PoolGeom g, bool adaptive, string name)
    {
        GpuPoolPlanes(x, y, name);
        KernelStats.Record(name);
        var kernel = GpuOps.Dev(x).Launcher("avg-pool", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolGeom, int>(AvgPoolKernel));
        kernel(y.Count, x.GpuView, y.GpuView, g, adaptive ? 1 : 0);
    }

    private static void AvgPool2dBackwardGpu(Tensor dy, Tensor dx, int k, int stride, int pad, bool adaptive, bool accumulate, string name)
    {
        int planes = GpuPoolPlanes(dx, dy, name);
        KernelStats.Record(name);
        var kernel = GpuOps.Dev(dx).Launcher("avg-pool-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolGeom, int, int>(AvgPoolBackwardKernel));
        kernel(planes, dy.GpuView, dx.GpuView, PoolGeom.Of(dx.Shape, dy.Shape, k, stride, pad), adaptive ? 1 : 0, accumulate ? 1 : 0);
    }

    /// <summary>One thread per output element: y = the maximum of its window (from −∞; a later value wins when it is
    /// greater or NaN, as on the CPU), idx = the winning input index within the plane.</summary>
    [Gpu.GpuKernel]
    internal static void MaxPoolKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, ArrayView<float> idx, PoolGeom g)
    {
        int outPlane = g.Ho * g.Wo;
        int plane = index / outPlane, o = index - plane * outPlane;
        int oh = o / g.Wo, ow = o - oh * g.Wo;
        g.Window(PoolKind.Max, oh, ow, out int h0, out int h1, out int w0, out int w1, out _);
        int baseIn = plane * g.H * g.W;
        float max = float.NegativeInfinity;
        int best = h0 * g.W + w0;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
            {
                float v = x[baseIn + ih * g.W + iw];
                if (v > max || float.IsNaN(v))
                {
                    max = v;
                    best = ih * g.W + iw;
                }
            }
        y[index] = max;
        idx[index] = best;
    }

    /// <summary>One thread per (sample, channel) plane, the CPU's sequential scatter: dx (= 0 unless accumulating), then
    /// dx[idx[o]] += dy[o] for the plane's outputs in order (an index outside the plane is skipped).</summary>
    [Gpu.GpuKernel]
    internal static void MaxPoolBackwardKernel(Index1D plane, ArrayView<float> dy, ArrayView<float> idx, ArrayView<float> dx, PoolGeom g, int accumulate)
    {
        int inPlane = g.H * g.W, outPlane = g.Ho * g.Wo;
        int baseIn = plane * inPlane, baseOut = plane * outPlane;
        if (accumulate == 0)
            for (int i = 0; i < inPlane; i++) dx[baseIn + i] = 0f;
        for (int o = 0; o < outPlane; o++)
        {
            int at = (int)idx[baseOut + o];
            if (at >= 0 && at < inPlane) dx[baseIn + at] += dy[baseOut + o];
        }
    }

    /// <summary>One thread per output element: y = Σ window · (1/divisor), the divisor k² (AvgPool2d, count_include_pad)
    /// or the window's size (adaptive = 1).</summary>
    [Gpu.GpuKernel]
    internal static void AvgPoolKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, PoolGeom g, int adaptive)
    {
        int outPlane = g.Ho * g.Wo;
        int plane = index / outPlane, o = index - plane * outPlane;
        int oh = o / g.Wo, ow = o - oh * g.Wo;
        g.Window(adaptive != 0 ? PoolKind.Adaptive : PoolKind.Average, oh, ow, out int h0, out int h1, out int w0, out int w1, out int divisor);
        int baseIn = plane * g.H * g.W;
        float inv = 1f / divisor;
        float sum = 0f;
        for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++) sum += x[baseIn + ih * g.W + iw];
        y[index] = sum * inv;
    }

    /// <summary>One thread per (sample, channel) plane, the CPU's sequential scatter: dx (= 0 unless accumulating), then
    /// dx[window] += dy[o]·(1/divisor) for the plane's outputs in order.</summary>
    [Gpu.GpuKernel]
    internal static void AvgPoolBackwardKernel(Index1D plane, ArrayView<float> dy, ArrayView<float> dx, PoolGeom g, int adaptive, int accumulate)
    {
        int inPlane = g.H * g.W;
        int baseIn = plane * inPlane, baseOut = plane * g.Ho * g.Wo;
        if (accumulate == 0)
            for (int i = 0; i < inPlane; i++) dx[baseIn + i] = 0f;
        var kind = adaptive != 0 ? PoolKind.Adaptive : PoolKind.Average;
        for (int oh = 0; oh < g.Ho; oh++)
            for (int ow = 0; ow < g.Wo; ow++)
            {
                g.Window(kind, oh, ow, out int h0, out int h1, out int w0, out int w1, out int divisor);
                float share = dy[baseOut + oh * g.Wo + ow] * (1f / divisor);
                for (int ih = h0; ih < h1; ih++)
                    for (int iw = w0; iw < w1; iw++) dx[baseIn + ih * g.W + iw] += share;
            }
    }
}
