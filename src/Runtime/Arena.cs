using ILGPU;
using ILGPU.Runtime;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>One native block holding a plan's activations and their gradients, carved into tensors at fixed offsets.
/// Generated code builds one per input shape (batch size) and reuses it every step.</summary>
public sealed unsafe class ActivationArena : IDisposable
{
    private readonly Device _device;
    private readonly DType _dtype;
    private readonly List<(Tensor Tensor, long Offset)> _tensors = new();
    private long _elements;
    private void* _block;
    private MemoryBuffer1D<byte, Stride1D.Dense>? _gpuBlock;

    public ActivationArena(Device device, DType dtype)
    {
        _device = device;
        _dtype = dtype;
    }

    /// <summary>Reserves a tensor; its memory exists after <see cref="Commit"/>.</summary>
    public Tensor Add(Shape shape)
    {
        if (_block != null) throw new InvalidOperationException("The arena is already committed.");
        var tensor = new Tensor(_device, _dtype, shape, null, ownsMemory: false);
        _tensors.Add((tensor, _elements));
        _elements += (shape.Count + 15) / 16 * 16; // 64-byte aligned for float
        return tensor;
    }

    /// <summary>A view of an arena tensor (Reshape/Flatten: no copy).</summary>
    public static Tensor View(Tensor tensor, Shape shape) => tensor.View(shape);

    public long Bytes => _elements * _dtype.Size();

    public void Commit()
    {
        if (_device is IlgpuDevice gpu)
        {
            _gpuBlock = gpu.AllocateBytes(Math.Max(1, _elements) * _dtype.Size());
            foreach (var (tensor, offset) in _tensors)
                tensor.AttachGpu(_gpuBlock.View.SubView(offset * _dtype.Size(), Math.Max(1, tensor.Count) * (long)_dtype.Size()));
            return;
        }
        _block = _device.Allocate(Math.Max(1, _elements) * _dtype.Size());
        foreach (var (tensor, offset) in _tensors) tensor.Attach((byte*)_block + offset * _dtype.Size());
    }

    public void Dispose()
    {
        if (_gpuBlock is not null)
        {
            foreach (var (tensor, _) in _tensors) tensor.AttachGpu(default);
            _gpuBlock.Dispose();
            _gpuBlock = null;
        }
        if (_block == null) return;
        foreach (var (tensor, _) in _tensors) tensor.Attach(null);
        _device.Free(_block);
        _block = null;
    }
}
