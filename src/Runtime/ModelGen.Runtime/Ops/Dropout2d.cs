using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>Dropout2d's runtime routines: shape rule, CPU forward and backward (channel dropout); its ILGPU form goes here too (generator rule: src/Generators/Ops/Dropout2d.cs).</summary>
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
