using System.Buffers;
using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Cpu;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>Embedding's runtime routines: shape rule, CPU forward and backward and their ILGPU form (generator rule: src/Generators/Ops/Embedding.cs).</summary>
public static unsafe partial class Ops
{
    // ---------------- Embedding ----------------

    public static Shape EmbeddingShape(Shape ids, Embedding layer) => new([.. ids.Dims, layer.Dim]);

    /// <summary>y[i] = W[ids[i]] with Int32 ids (a generated model converts Int64 ids at the call); ids outside the
    /// table raise an error naming the position.</summary>
    public static void EmbeddingForward<T>(Embedding layer, Tensor ids, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        KernelStats.Record("embedding");
        CheckIds(layer, ids);
        if (!ids.Device.IsCpu) { EmbeddingForwardGpu(layer, ids, y); return; }
        T* w = layer.Weight.Value.Ptr<T>(), o = y.Ptr<T>();
        int* idv = ids.Ptr<int>();
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
        CheckIds(layer, ids);
        if (!dy.Device.IsCpu) { EmbeddingBackwardGpu(layer, ids, dy); return; }
        T* g = layer.Weight.Grad.Ptr<T>(), d = dy.Ptr<T>();
        int* idv = ids.Ptr<int>();
        int dim = layer.Dim;
        for (int i = 0; i < ids.Count; i++)
        {
            int id = TokenId(idv[i], i, ids.Shape, layer);
            if (id == layer.PaddingIndex) continue;
            T* row = g + (long)id * dim, src = d + (long)i * dim;
            for (int c = 0; c < dim; c++) row[c] += src[c];
        }
    }

    private static void CheckIds(Embedding layer, Tensor ids)
    {
        if (ids.DType != DType.Int32)
            throw new ArgumentException($"{layer.Name}: ids must be an Int32 tensor (a model converts Int64 ids itself), but a tensor of shape {ids.Shape} holds {ids.DType}.", nameof(ids));
    }

    private static int TokenId(int id, int index, Shape shape, Embedding layer)
    {
        if ((uint)id >= (uint)layer.Count)
        {
            var position = shape.Rank == 2 ? $"({index / shape[1]}, {index % shape[1]})" : index.ToString();
            throw new ArgumentOutOfRangeException(nameof(id), $"{layer.Name}: token id {id} at position {position} is outside the vocabulary of {layer.Count}.");
        }
        return id;
    }

    // ---------------- ILGPU ----------------

    private static void EmbeddingForwardGpu(Embedding layer, Tensor ids, Tensor y)
    {
        CheckTokenIds(layer, ids);
        if (y.Count != ids.Count * layer.Dim) throw new ShapeMismatchException($"{layer.Name}: output {y.Shape} does not hold {ids.Shape} rows of {layer.Dim}.");
        var kernel = GpuOps.Dev(y).Launcher("embedding", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(EmbeddingKernel));
        kernel(y.Count, IdView(ids), layer.Weight.Value.GpuView, y.GpuView, layer.Dim);
    }

    private static void EmbeddingBackwardGpu(Embedding layer, Tensor ids, Tensor dy)
    {
        CheckTokenIds(layer, ids);
        if (dy.Count != ids.Count * layer.Dim) throw new ShapeMismatchException($"{layer.Name}: gradient {dy.Shape} does not hold {ids.Shape} rows of {layer.Dim}.");
        var kernel = GpuOps.Dev(dy).Launcher("embedding-backward", static a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, int>(EmbeddingBackwardKernel));
        kernel(layer.Dim, IdView(ids), dy.GpuView, layer.Weight.Grad.GpuView, ids.Count, layer.Dim, layer.PaddingIndex ?? -1);
    }

    /// <summary>The ids are checked on the host, with the CPU form's message, before a kernel indexes the table with them
    /// (an id outside it would read or write outside the weight's memory).</summary>
    private static void CheckTokenIds(Embedding layer, Tensor ids)
    {
        var host = ArrayPool<int>.Shared.Rent(ids.Count);
        try
        {
            var span = host.AsSpan(0, ids.Count);
            IdView(ids).CopyToCPU(span);
            for (int i = 0; i < span.Length; i++) TokenId(span[i], i, ids.Shape, layer);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(host);
        }
    }

    private static ArrayView<int> IdView(Tensor ids) => ids.GpuBytes.Cast<int>().SubView(0, ids.Count);

    /// <summary>y[i] = W[ids[i / dim], i mod dim], one thread per output element.</summary>
    [GpuKernel]
    internal static void EmbeddingKernel(Index1D i, ArrayView<int> ids, ArrayView<float> weight, ArrayView<float> y, int dim)
        => y[i] = weight[ids[i / dim] * dim + i % dim];

    /// <summary>dW[ids[r], c] += dy[r, c] for every row r except the padding index's, one thread per column c walking the
    /// rows in order: repeated ids add up without atomics, in the CPU form's order.</summary>
    [GpuKernel]
    internal static void EmbeddingBackwardKernel(Index1D c, ArrayView<int> ids, ArrayView<float> dy, ArrayView<float> grad, int count, int dim, int paddingIndex)
    {
        for (int r = 0; r < count; r++)
        {
            int id = ids[r];
            if (id != paddingIndex) grad[id * dim + c] += dy[r * dim + c];
        }
    }
}
