using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;

namespace ModelGen;

/// <summary>Embedding's runtime routines: shape rule, CPU forward and backward, plus RequireCpu, shared by the CPU-only ops; its ILGPU form goes here too (generator rule: src/Generators/Ops/Embedding.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Embedding ----------------

    public static Shape EmbeddingShape(Shape ids, Embedding layer) => new([.. ids.Dims, layer.Dim]);

    /// <summary>y[i] = W[ids[i]]; ids outside the table raise an error naming the position.</summary>
    public static void EmbeddingForward<T>(Embedding layer, Tensor ids, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("embedding");
        RequireCpu(ids, "Embedding");
        T* w = layer.Weight.Value.Ptr<T>(), o = y.Ptr<T>();
        T* idv = ids.Ptr<T>();
        int dim = layer.Dim;
        for (int i = 0; i < ids.Count; i++)
        {
            int id = TokenId(idv[i], i, ids.Shape, layer);
            new ReadOnlySpan<T>(w + (long)id * dim, dim).CopyTo(new Span<T>(o + (long)i * dim, dim));
        }
    }

    /// <summary>dW[ids[i]] += dy[i] (rows of the padding index get no gradient, as in PyTorch).</summary>
    public static void EmbeddingBackward<T>(Embedding layer, Tensor ids, Tensor dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!layer.Weight.RequiresGrad) return;
        KernelStats.Record("embedding-backward");
        T* g = layer.Weight.Grad.Ptr<T>(), d = dy.Ptr<T>();
        T* idv = ids.Ptr<T>();
        int dim = layer.Dim;
        for (int i = 0; i < ids.Count; i++)
        {
            int id = TokenId(idv[i], i, ids.Shape, layer);
            if (id == layer.PaddingIndex) continue;
            T* row = g + (long)id * dim, src = d + (long)i * dim;
            for (int c = 0; c < dim; c++) row[c] += src[c];
        }
    }

    private static int TokenId<T>(T value, int index, Shape shape, Embedding layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double v = double.CreateTruncating(value);
        int id = (int)v;
        if (id != v || (uint)id >= (uint)layer.Count)
        {
            var position = shape.Rank == 2 ? $"({index / shape[1]}, {index % shape[1]})" : index.ToString();
            throw new ArgumentOutOfRangeException(nameof(value), $"{layer.Name}: token id {v} at position {position} is outside the vocabulary of {layer.Count}.");
        }
        return id;
    }

    // ---------------- shared: CPU-only guard ----------------

    /// <summary>Throws for tensors off the CPU engine. Used by the ops without ILGPU kernels yet: Embedding, LayerNorm,
    /// Attention (Ops/LayerNorm.cs, Ops/Attention.cs), Conv2d, the pooling ops, BatchNorm2d and Dropout2d (Ops/Conv2d.cs,
    /// Ops/Pool2d.cs, Ops/BatchNorm2d.cs, Ops/Dropout2d.cs).</summary>
    private static void RequireCpu(Tensor t, string op)
    {
        if (!t.Device.IsCpu) throw new NotSupportedException($"{op} runs on the CPU engine; its ILGPU kernels are not written yet (use --device cpu).");
    }
}
