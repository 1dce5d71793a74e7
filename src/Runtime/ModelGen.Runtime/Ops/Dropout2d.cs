using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Dropout2d's runtime routines: shape rule, CPU forward and backward (channel dropout), and ILGPU form (generator rule: src/Generators/Ops/Dropout2d.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Dropout2d ----------------

    public static Shape Dropout2dShape(Shape x, Dropout2d layer)
    {
        RequireNchw(x, layer.Name, layer.ToString(), "channels");
        return x;
    }

    /// <summary>One mask value per (sample, channel).</summary>
    public static Shape Dropout2dMaskShape(Shape x) => new(x[0], x[1]);

    /// <summary>Training: mask[n, c] = (u ≥ p)/(1 − p) drawn from (seed, step, layer, n·C + c); y = x ⊙ mask per plane.</summary>
    public static void Dropout2d<T>(Dropout2d layer, Tensor x, Tensor mask, Tensor y, int seed, ulong step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ulong key = Dropout2dKey(layer, seed, step);
        if (!x.Device.IsCpu) { Dropout2dGpu(x, mask, y, layer.P, key); return; }
        KernelStats.Record("dropout2d");
        T keep = T.CreateTruncating(1.0 / (1.0 - layer.P));
        T* m = mask.Ptr<T>();
        for (int i = 0; i < mask.Count; i++) m[i] = Rng.Uniform(key, (ulong)i) >= layer.P ? keep : T.Zero;
        ScalePlanes<T>(x.Ptr<T>(), m, y.Ptr<T>(), mask.Count, x.Count / Math.Max(1, mask.Count), false);
    }

    /// <summary>The mask stream of a step: from the model seed, a stable hash of the layer's name and the step (both
    /// engines draw from it, so they drop the same channels).</summary>
    private static ulong Dropout2dKey(Dropout2d layer, int seed, ulong step)
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in layer.Name) h = (h ^ ch) * 1099511628211UL;
        return Rng.Mix(Rng.Mix((ulong)seed ^ h) ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL));
    }

    /// <summary>Evaluation: y = x and an all-ones mask (so the backward is the same code).</summary>
    public static void Dropout2dIdentity<T>(Tensor x, Tensor mask, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { Dropout2dIdentityGpu(x, mask, y); return; }
        KernelStats.Record("copy");
        x.AsSpan<T>().CopyTo(y.AsSpan<T>());
        mask.AsSpan<T>().Fill(T.One);
    }

    /// <summary>dx (+)= dy ⊙ mask per plane.</summary>
    public static void Dropout2dBackward<T>(Tensor dy, Tensor mask, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { Dropout2dBackwardGpu(dy, mask, dx, accumulate); return; }
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

    // ---------------- ILGPU ----------------

    /// <summary>Checks that x, y and the mask are NCHW tensors and a [N, C] mask on one device; gives the plane size.</summary>
    private static int GpuDropout2dPlane(Tensor x, Tensor mask, Tensor y, string what)
    {
        GpuOps.Same(x, y, what);
        if (x.Shape.Rank != 4 || mask.Count != x.Shape[0] * x.Shape[1])
            throw new ShapeMismatchException($"{what}: the mask {mask.Shape} does not hold one value per (sample, channel) of {x.Shape}.");
        if (!ReferenceEquals(x.Device, mask.Device)) throw new ArgumentException($"{what}: tensors on {x.Device.Name} and {mask.Device.Name}.");
        return x.Shape[2] * x.Shape[3];
    }

    private static void Dropout2dGpu(Tensor x, Tensor mask, Tensor y, double p, ulong key)
    {
        int plane = GpuDropout2dPlane(x, mask, y, "Dropout2d");
        KernelStats.Record("dropout2d");
        var device = GpuOps.Dev(x);
        var draw = device.Launcher("dropout2d-mask", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, double, float, ulong>(Dropout2dMaskKernel));
        draw(mask.Count, mask.GpuView, p, (float)(1.0 / (1.0 - p)), key);
        ScalePlanesGpu(x, mask, y, plane, accumulate: false);
    }

    private static void Dropout2dIdentityGpu(Tensor x, Tensor mask, Tensor y)
    {
        GpuDropout2dPlane(x, mask, y, "Dropout2d");
        GpuOps.AddInto(y, x, accumulate: false);
        GpuOps.Fill(mask, 1f);
    }

    private static void Dropout2dBackwardGpu(Tensor dy, Tensor mask, Tensor dx, bool accumulate)
    {
        int plane = GpuDropout2dPlane(dy, mask, dx, "Dropout2d backward");
        KernelStats.Record("dropout2d-backward");
        ScalePlanesGpu(dy, mask, dx, plane, accumulate);
    }

    private static void ScalePlanesGpu(Tensor x, Tensor mask, Tensor y, int plane, bool accumulate)
    {
        var kernel = GpuOps.Dev(x).Launcher("dropout2d-scale-planes", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ScalePlanesKernel));
        kernel(x.Count, x.GpuView, mask.GpuView, y.GpuView, plane, accumulate ? 1 : 0);
    }

    /// <summary>One thread per (sample, channel): mask[i] = keep = 1/(1 − p) when u(key, i) ≥ p, else 0 (the CPU's draw
    /// and comparison, in double).</summary>
    [Gpu.GpuKernel]
    internal static void Dropout2dMaskKernel(Index1D i, ArrayView<float> mask, double p, float keep, ulong key)
        => mask[i] = Rng.Uniform(key, (ulong)(int)i) >= p ? keep : 0f;

    /// <summary>One thread per element: y (+)= x · mask[plane of the element].</summary>
    [Gpu.GpuKernel]
    internal static void ScalePlanesKernel(Index1D i, ArrayView<float> x, ArrayView<float> mask, ArrayView<float> y, int plane, int accumulate)
    {
        float v = x[i] * mask[i / plane];
        y[i] = accumulate != 0 ? y[i] + v : v;
    }
}
