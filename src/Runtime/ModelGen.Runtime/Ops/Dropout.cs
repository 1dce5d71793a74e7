using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Dropout (training and eval mode) and its backward: dispatch, CPU loops and ILGPU form (generator rule: src/Generators/Ops/Dropout.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Dropout ----------------

    public static void Dropout<T>(Dropout layer, Tensor x, Tensor mask, Tensor y, int seed, ulong step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { DropoutGpu(x, mask, y, layer.P, Rng.Mix(DropoutKey(layer, seed) ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL))); return; }
        DropoutCpu(x.Ptr<T>(), mask.Ptr<T>(), y.Ptr<T>(), x.Count, layer.P, DropoutKey(layer, seed), step);
    }
    /// <summary>The dropout stream of a layer: from the model seed and a stable hash of the layer's name (string.GetHashCode
    /// is randomised per process, so it cannot be used: the same seed must give the same masks run after run).</summary>
    internal static ulong DropoutKey(Dropout layer, int seed)
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in layer.Name) h = (h ^ ch) * 1099511628211UL;
        return Rng.Mix((ulong)seed ^ h);
    }

    public static void DropoutBackward<T>(Tensor dy, Tensor mask, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.Device.IsCpu) { MultiplyGpu(dy, mask, dx, accumulate); return; }
        MultiplyBackwardCpu(dy.Ptr<T>(), mask.Ptr<T>(), dx.Ptr<T>(), dx.Count, accumulate);
    }

    /// <summary>Dropout in eval mode: y = x and an all-ones mask (so the backward is the same code).</summary>
    public static void Identity<T>(Tensor x, Tensor mask, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Device.IsCpu) { CopyWithOnesGpu(x, mask, y); return; }
        KernelStats.Record("copy");
        x.AsSpan<T>().CopyTo(y.AsSpan<T>());
        mask.AsSpan<T>().Fill(T.One);
    }

    // ---------------- CPU ----------------

    /// <summary>Inverted dropout: mask = (u ≥ p) / (1 − p) with u drawn from a counter-based hash of
    /// (seed, step, index), so a step's mask is reproducible and independent of threading; y = x ⊙ mask.</summary>
    private static void DropoutCpu<T>(T* x, T* mask, T* y, int n, double p, ulong seed, ulong step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("dropout");
        T keep = p >= 1 ? T.Zero : T.CreateTruncating(1.0 / (1.0 - p));
        ulong key = Rng.Mix(seed ^ Rng.Mix(step + 0x9E3779B97F4A7C15UL));
        for (int i = 0; i < n; i++)
        {
            double u = Rng.Uniform(key, (ulong)i);
            var m = u >= p ? keep : T.Zero;
            mask[i] = m;
            y[i] = x[i] * m;
        }
    }

    /// <summary>dx (+)= dy ⊙ mask.</summary>
    private static void MultiplyBackwardCpu<T>(T* dy, T* mask, T* dx, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("dropout-backward");
        for (int i = 0; i < n; i++)
        {
            var v = dy[i] * mask[i];
            dx[i] = accumulate ? dx[i] + v : v;
        }
    }

    // ---------------- ILGPU ----------------

    private static void DropoutGpu(Tensor x, Tensor mask, Tensor y, double p, ulong key)
    {
        GpuOps.Same(x, y, "Dropout");
        KernelStats.Record("dropout");
        var kernel = GpuOps.Dev(x).Launcher("dropout", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, double, float, ulong>(DropoutKernel));
        kernel(x.Count, x.GpuView, mask.GpuView, y.GpuView, p, (float)(1.0 / (1.0 - p)), key);
    }

    private static void MultiplyGpu(Tensor dy, Tensor mask, Tensor dx, bool accumulate)
    {
        GpuOps.Same(dy, dx, "Dropout backward");
        KernelStats.Record("dropout-backward");
        var kernel = GpuOps.Dev(dx).Launcher("multiply", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(MultiplyKernel));
        kernel(dx.Count, dy.GpuView, mask.GpuView, dx.GpuView, accumulate ? 1 : 0);
    }

    private static void CopyWithOnesGpu(Tensor x, Tensor mask, Tensor y)
    {
        GpuOps.Same(x, y, "Dropout");
        KernelStats.Record("copy");
        var kernel = GpuOps.Dev(x).Launcher("copy-ones", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(CopyWithOnesKernel));
        kernel(x.Count, x.GpuView, mask.GpuView, y.GpuView);
    }

    [Gpu.GpuKernel]
    internal static void DropoutKernel(Index1D i, ArrayView<float> x, ArrayView<float> mask, ArrayView<float> y, double p, float keep, ulong key)
    {
        double u = Rng.Uniform(key, (ulong)(int)i);
        float m = u >= p ? keep : 0f;
        mask[i] = m;
        y[i] = x[i] * m;
    }

    [Gpu.GpuKernel]
    internal static void MultiplyKernel(Index1D i, ArrayView<float> dy, ArrayView<float> mask, ArrayView<float> dx, int accumulate)
        => dx[i] = accumulate != 0 ? dx[i] + dy[i] * mask[i] : dy[i] * mask[i];

    [Gpu.GpuKernel]
    internal static void CopyWithOnesKernel(Index1D i, ArrayView<float> x, ArrayView<float> mask, ArrayView<float> y)
    {
        y[i] = x[i];
        mask[i] = 1f;
    }
}
