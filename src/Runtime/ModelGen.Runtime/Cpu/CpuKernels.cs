using System.Numerics;
using System.Runtime.Intrinsics;

namespace ModelGen.Cpu;

/// <summary>
/// CPU routines shared by several ops: the activation backward fused with the bias gradient (Linear, Conv2d) and
/// dst (+)= src (gradient fan-out). An op's own loops live in its <c>Ops/&lt;Op&gt;.cs</c>; GEMMs are in <see cref="CpuGemm"/>.
/// "accumulate" means add into the destination (fan-out, parameter gradients) instead of assigning.
/// </summary>
public static unsafe class CpuKernels
{
    /// <summary>Backward of act(z + b) given y = act(z + b): dz = act'(y) ⊙ dy (dz may alias dy) and
    /// db (+)= Σ_rows dz, in one pass over dy. With no activation it only reduces the bias gradient.</summary>
    public static void ActivationBackward<T, TAct>(T* dy, T* y, T* dz, T* db, int rows, int cols, bool accumulateDb)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        KernelStats.Record(typeof(TAct) == typeof(Identity<T>) ? "bias-grad" : "activation-backward+bias-grad");
        var body = new ActivationBackwardBody<T, TAct> { Dy = dy, Y = y, Dz = dz, Db = db, Rows = rows, Cols = cols, Accumulate = accumulateDb };
        int blocks = (cols + 63) / 64;
        if ((long)rows * cols < 32_768) body.Execute(0, blocks);
        else CpuParallel.For(blocks, 1, ref body);
    }

    private struct ActivationBackwardBody<T, TAct> : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
        where TAct : struct, IActivation<T>
    {
        public T* Dy, Y, Dz, Db;
        public int Rows, Cols;
        public bool Accumulate;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int c0 = start * 64, c1 = Math.Min(Cols, end * 64);
            bool identity = typeof(TAct) == typeof(Identity<T>);
            for (int c = c0; c < c1; c++)
                if (Db != null && !Accumulate) Db[c] = T.Zero;
            for (int r = 0; r < Rows; r++)
            {
                T* dy = Dy + (long)r * Cols, y = Y + (long)r * Cols, dz = Dz + (long)r * Cols;
                int c = c0;
                if (Vector512.IsHardwareAccelerated)
                {
                    for (; c <= c1 - Vector512<T>.Count; c += Vector512<T>.Count)
                    {
                        var g = Vector512.Load(dy + c);
                        if (!identity)
                        {
                            g = default(TAct).Grad(Vector512.Load(y + c), g);
                            g.Store(dz + c);
                        }
                        if (Db != null) (Vector512.Load(Db + c) + g).Store(Db + c);
                    }
                }
                else if (Vector256.IsHardwareAccelerated)
                {
                    for (; c <= c1 - Vector256<T>.Count; c += Vector256<T>.Count)
                    {
                        var g = Vector256.Load(dy + c);
                        if (!identity)
                        {
                            g = default(TAct).Grad(Vector256.Load(y + c), g);
                            g.Store(dz + c);
                        }
                        if (Db != null) (Vector256.Load(Db + c) + g).Store(Db + c);
                    }
                }
                for (; c < c1; c++)
                {
                    var g = dy[c];
                    if (!identity)
                    {
                        g = default(TAct).Grad(y[c], g);
                        dz[c] = g;
                    }
                    if (Db != null) Db[c] += g;
                }
            }
        }
    }

    /// <summary>dst (+)= src, element-wise (gradient fan-out and sub-model gradients).</summary>
    public static void AddInto<T>(T* dst, T* src, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dst == src) return;
        KernelStats.Record(accumulate ? "add" : "copy");
        if (!accumulate)
        {
            Buffer.MemoryCopy(src, dst, (long)n * sizeof(T), (long)n * sizeof(T));
            return;
        }
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count) (Vector512.Load(dst + i) + Vector512.Load(src + i)).Store(dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }
}

/// <summary>Deterministic, counter-based random numbers (SplitMix64 mixing): the same seed gives the same values on
/// every machine, engine and thread count.</summary>
public static class Rng
{
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A uniform double in [0, 1) for (key, counter).</summary>
    public static double Uniform(ulong key, ulong counter) => (Mix(key ^ Mix(counter)) >> 11) * (1.0 / (1UL << 53));
}
