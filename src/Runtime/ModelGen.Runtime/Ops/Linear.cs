using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Linear (y = act(x·Wᵀ + b)) and its backward: shape rule, dispatch and ILGPU form (generator rule: src/Generators/Ops/Linear.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Linear ----------------
    // the GEMMs stay in Cpu/CpuGemm.cs and GpuOps.Gemm/GpuKernels.Gemm, which MatMul, Conv2d, Attention and the tests also call

    /// <summary>The output shape of a Linear layer: [..., in] → [..., out], with a message naming the layer.</summary>
    public static Shape LinearShape(Shape x, Linear layer)
    {
        if (x.Rank == 0 || x.Last != layer.InFeatures)
            throw new ShapeMismatchException($"{layer.Name} ({layer}) expects input [*, {layer.InFeatures}] but got {x}.");
        return x.WithLast(layer.OutFeatures);
    }

    /// <summary>y = act(x·Wᵀ + b): one GEMM (NT) with bias and activation in its epilogue.</summary>
    public static void LinearForward<T, TAct>(Linear layer, Tensor x, Tensor y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        if (!x.Device.IsCpu) { LinearForwardGpu(layer, x, y, GpuOps.ActivationCode(typeof(TAct))); return; }
        int m = x.Count / layer.InFeatures, n = layer.OutFeatures, k = layer.InFeatures;
        var bias = layer.Bias is { } b ? b.Value.Ptr<T>() : null;
        CpuGemm.Run(x.Ptr<T>(), k, false, layer.Weight.Value.Ptr<T>(), k, true, y.Ptr<T>(), n, m, n, k, false,
            new BiasActivation<T, TAct>(bias));
    }

    /// <summary>Backward of y = act(x·Wᵀ + b). dz = act'(y) ⊙ dy is formed in place in dy, fused with the bias
    /// gradient's column sum; then dW += dzᵀ·x (GEMM TN) and dx (+)= dz·W (GEMM NN), each skipped when not needed.</summary>
    public static void LinearBackward<T, TAct>(Linear layer, Tensor x, Tensor y, Tensor dy, Tensor? dx, bool accumulateDx)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        if (!x.Device.IsCpu) { LinearBackwardGpu(layer, x, y, dy, dx, accumulateDx, GpuOps.ActivationCode(typeof(TAct))); return; }
        int m = x.Count / layer.InFeatures, n = layer.OutFeatures, k = layer.InFeatures;
        bool accumulateDb = true, accumulateDw;
        var bias = layer.Bias is { RequiresGrad: true } b ? b.GradForWrite(out accumulateDb).Ptr<T>() : null;
        T* dz = dy.Ptr<T>();
        if (bias != null || typeof(TAct) != typeof(Identity<T>))
            CpuKernels.ActivationBackward<T, TAct>(dz, y.Ptr<T>(), dz, bias, m, n, accumulateDb);
        if (layer.Weight.RequiresGrad)
            CpuGemm.Run(dz, n, true, x.Ptr<T>(), k, false, layer.Weight.GradForWrite(out accumulateDw).Ptr<T>(), k, n, k, m, accumulateDw, default(NoEpilogue<T>));
        if (dx is not null)
            CpuGemm.Run(dz, n, false, layer.Weight.Value.Ptr<T>(), k, false, dx.Ptr<T>(), k, m, k, n, accumulateDx, default(NoEpilogue<T>));
    }

    // ---------------- ILGPU ----------------

    private static void LinearForwardGpu(Linear layer, Tensor x, Tensor y, int activation)
    {
        int m = x.Count / layer.InFeatures;
        GpuOps.Gemm(x, false, layer.Weight.Value, true, y, m, layer.OutFeatures, layer.InFeatures, false, layer.Bias?.Value, activation);
    }

    private static void LinearBackwardGpu(Linear layer, Tensor x, Tensor y, Tensor dy, Tensor? dx, bool accumulateDx, int activation)
    {
        int m = x.Count / layer.InFeatures, n = layer.OutFeatures, k = layer.InFeatures;
        var bias = layer.Bias is { RequiresGrad: true } b ? b.Grad : null;
        if (bias is not null || activation != 0)
        {
            KernelStats.Record(activation == 0 ? "bias-grad" : "activation-backward+bias-grad");
            var kernel = GpuOps.Dev(dy).Launcher("activation-backward", static a =>
                a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(GpuKernels.ActivationBackward));
            kernel(n, dy.GpuView, y.GpuView, dy.GpuView, (bias ?? dy).GpuView, m, n, activation, bias is null ? 0 : 1);
        }
        if (layer.Weight.RequiresGrad) GpuOps.Gemm(dy, true, x, false, layer.Weight.Grad, n, k, m, true, null, 0);
        if (dx is not null) GpuOps.Gemm(dy, false, layer.Weight.Value, false, dx, m, k, n, accumulateDx, null, 0);
    }
}
