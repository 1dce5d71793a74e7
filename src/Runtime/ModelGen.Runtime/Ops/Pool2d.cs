using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>MaxPool2d, AvgPool2d and AdaptiveAvgPool2d's runtime routines: shape rule, CPU forward and backward; its ILGPU form goes here too (generator rule: src/Generators/Ops/Pool2d.cs).</summary>
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
}
