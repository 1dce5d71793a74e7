using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>First-token pooling's runtime routines: shape rule, CPU forward and backward; and their ILGPU form (generator rule: src/Generators/Ops/FirstToken.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- first-token pooling ----------------

    public static Shape FirstTokenShape(Shape x)
    {
        if (x.Rank != 3) throw new ShapeMismatchException($"FirstToken needs [batch, seq, hidden] but got {x}.");
        return new Shape(x[0], x[2]);
    }

    /// <summary>y[b] = x[b, 0, :] (BERT's [CLS] pooling input).</summary>
    public static void FirstTokenForward<T>(Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("first-token");
        int batch = x.Shape[0], seq = x.Shape[1], hidden = x.Shape[2];
        if (!x.Device.IsCpu) { FirstTokenGpu(x, y, dx: null, accumulate: false, seq, hidden); return; }
        T* xp = x.Ptr<T>(), yp = y.Ptr<T>();
        for (int b = 0; b < batch; b++) new ReadOnlySpan<T>(xp + (long)b * seq * hidden, hidden).CopyTo(new Span<T>(yp + (long)b * hidden, hidden));
    }

    /// <summary>dx[b, 0, :] (+)= dy[b]; the other positions get zero (or keep their accumulated value).</summary>
    public static void FirstTokenBackward<T>(Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("first-token-backward");
        int batch = dx.Shape[0], seq = dx.Shape[1], hidden = dx.Shape[2];
        if (!dx.Device.IsCpu) { FirstTokenGpu(null, dy, dx, accumulate, seq, hidden); return; }
        T* g = dy.Ptr<T>(), d = dx.Ptr<T>();
        if (!accumulate) new Span<T>(d, dx.Count).Clear();
        for (int b = 0; b < batch; b++)
        {
            T* row = d + (long)b * seq * hidden, src = g + (long)b * hidden;
            for (int c = 0; c < hidden; c++) row[c] += src[c];
        }
    }

    // ---------------- ILGPU ----------------

    /// <summary>Forward (x → y) without <paramref name="dx"/>, backward (dy → dx) with it.</summary>
    private static void FirstTokenGpu(Tensor? x, Tensor y, Tensor? dx, bool accumulate, int seq, int hidden)
    {
        var full = x ?? dx!;
        if (full.Count != y.Count * seq || y.Count % hidden != 0)
            throw new ShapeMismatchException($"FirstToken: {full.Shape} and {y.Shape} do not fit [batch, {seq}, {hidden}] and [batch, {hidden}].");
        var d = GpuOps.Dev(y);
        if (dx is null)
        {
            var forward = d.Launcher("first-token", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(FirstTokenKernel));
            forward(y.Count, x!.GpuView, y.GpuView, seq, hidden);
            return;
        }
        var backward = d.Launcher("first-token-backward", static a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(FirstTokenBackwardKernel));
        backward(dx.Count, y.GpuView, dx.GpuView, seq, hidden, accumulate ? 1 : 0);
    }

    /// <summary>y[b, c] = x[b, 0, c].</summary>
    [GpuKernel]
    internal static void FirstTokenKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int seq, int hidden)
        => y[i] = x[i / hidden * seq * hidden + i % hidden];

    /// <summary>dx[b, s, c] (+)= dy[b, c] where s = 0, and 0 elsewhere; one thread per element of dx.</summary>
    [GpuKernel]
    internal static void FirstTokenBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, int seq, int hidden, int accumulate)
    {
        int b = i / (seq * hidden), within = i % (seq * hidden);
        float g = within < hidden ? dy[b * hidden + within] : 0f;
        dx[i] = accumulate != 0 ? dx[i] + g : g;
    }
}
