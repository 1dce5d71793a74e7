using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>First-token pooling's runtime routines: shape rule, CPU forward and backward; its ILGPU form goes here too (generator rule: src/Generators/Ops/FirstToken.cs).</summary>
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
        T* xp = x.Ptr<T>(), yp = y.Ptr<T>();
        for (int b = 0; b < batch; b++) new ReadOnlySpan<T>(xp + (long)b * seq * hidden, hidden).CopyTo(new Span<T>(yp + (long)b * hidden, hidden));
    }

    /// <summary>dx[b, 0, :] (+)= dy[b]; the other positions get zero (or keep their accumulated value).</summary>
    public static void FirstTokenBackward<T>(Tensor dy, Tensor dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("first-token-backward");
        int batch = dx.Shape[0], seq = dx.Shape[1], hidden = dx.Shape[2];
        T* g = dy.Ptr<T>(), d = dx.Ptr<T>();
        if (!accumulate) new Span<T>(d, dx.Count).Clear();
        for (int b = 0; b < batch; b++)
        {
            T* row = d + (long)b * seq * hidden, src = g + (long)b * hidden;
            for (int c = 0; c < hidden; c++) row[c] += src[c];
        }
    }
}
