using ILGPU;
using ILGPU.Runtime;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>One native block holding a plan's activations and their gradients, carved into tensors at fixed offsets.
/// Generated code builds one per input shape (batch size) and reuses it every step.</summary>
/// <summary>One native block holding a plan's activations and their gradients, carved into tensors at fixed offsets.
/// Generated code builds one per input shape and reuses it every step. The plans of one model share a
/// <see cref="ActivationMemory"/>: they run one at a time, so each views the same block, sized for the largest.</summary>
public sealed unsafe class ActivationArena : IDisposable
{
    private readonly Device _device;
    private readonly DType _dtype;
    private readonly ActivationMemory? _shared;
    private readonly List<(Tensor Tensor, long Offset)> _tensors = new();
    private readonly List<Tensor> _trainingOnly = new();
    private long _elements;
    private bool _committed;
    private void* _block;
    private MemoryBuffer1D<byte, Stride1D.Dense>? _gpuBlock;

    public ActivationArena(Device device, DType dtype) : this(device, dtype, null) { }

    /// <param name="shared">The model's activation memory: this arena views its block instead of owning one.</param>
    public ActivationArena(Device device, DType dtype, ActivationMemory? shared)
    {
        _device = device;
        _dtype = dtype;
        _shared = shared;
    }

    /// <summary>Reserves a tensor; its memory exists after <see cref="Commit"/>. Tensors only a training step touches
    /// (gradients, dropped attention probabilities) are laid out after all the others, so that a forward pass in eval
    /// mode touches only a prefix of the block: however many input shapes share the model's memory, inference keeps
    /// only the largest forward pass's pages resident.</summary>
    public Tensor Add(Shape shape, bool trainingOnly = false)
    {
        if (_committed) throw new InvalidOperationException("The arena is already committed.");
        var tensor = new Tensor(_device, _dtype, shape, null, ownsMemory: false);
        if (trainingOnly)
        {
            _trainingOnly.Add(tensor);
            return tensor;
        }
        _tensors.Add((tensor, _elements));
        _elements += Aligned(shape);
        return tensor;
    }

    // each tensor starts 64-byte aligned: 16 elements (float, double), 32 (16-bit types) or 64 (bool)
    private long Aligned(Shape shape)
    {
        int per = Math.Max(16, 64 / _dtype.Size());
        return (shape.Count + per - 1L) / per * per;
    }

    /// <summary>A view of an arena tensor (Reshape/Flatten: no copy).</summary>
    public static Tensor View(Tensor tensor, Shape shape) => tensor.View(shape);

    public long Bytes => Math.Max(1, _elements) * _dtype.Size();

    public void Commit()
    {
        if (_committed) throw new InvalidOperationException("The arena is already committed.");
        _committed = true;
        foreach (var tensor in _trainingOnly)
        {
            _tensors.Add((tensor, _elements));
            _elements += Aligned(tensor.Shape);
        }
        if (_shared is not null)
        {
            _shared.Attach(this);
            return;
        }
        if (_device is IlgpuDevice gpu)
        {
            _gpuBlock = gpu.AllocateBytes(Bytes);
            AttachTo(_gpuBlock.View);
            return;
        }
        _block = _device.Allocate(Bytes);
        AttachTo(_block);
    }

    internal void AttachTo(void* block)
    {
        foreach (var (tensor, offset) in _tensors) tensor.Attach(block == null ? null : (byte*)block + offset * _dtype.Size());
    }

    internal void AttachTo(ArrayView<byte> block)
    {
        foreach (var (tensor, offset) in _tensors)
            tensor.AttachGpu(block.IsValid ? block.SubView(offset * _dtype.Size(), Math.Max(1, tensor.Count) * (long)_dtype.Size()) : default);
    }

    public void Dispose()
    {
        if (_shared is not null)
        {
            if (_committed) _shared.Detach(this);
            _committed = false;
            return;
        }
        if (_gpuBlock is not null)
        {
            AttachTo(default(ArrayView<byte>));
            _gpuBlock.Dispose();
            _gpuBlock = null;
        }
        if (_block == null) return;
        AttachTo(null);
        _device.Free(_block);
        _block = null;
    }
}

/// <summary>The activation memory of one model: a single block that every plan (one per input shape) views, grown to
/// the largest plan built so far. Plans run one at a time, so an output lives until the next forward pass of any
/// shape — the documented lifetime of <c>Run</c>'s result. Smaller batches (the last partial batch, shorter padded
/// sequences) reuse the largest batch's memory instead of adding their own.</summary>
public sealed unsafe class ActivationMemory : IDisposable
{
    private readonly Device _device;
    private readonly List<ActivationArena> _arenas = new();
    private long _bytes;
    private void* _block;
    private MemoryBuffer1D<byte, Stride1D.Dense>? _gpuBlock;

    public ActivationMemory(Device device) => _device = device;

    /// <summary>The size of the block: the largest plan's activations and gradients.</summary>
    public long Bytes => _bytes;

    /// <summary>Times the block was (re)allocated; stays put once the largest shape has been seen.</summary>
    public int Allocations { get; private set; }

    internal void Attach(ActivationArena arena)
    {
        _arenas.Add(arena);
        if (arena.Bytes > _bytes) Grow(arena.Bytes);
        else if (_gpuBlock is not null) arena.AttachTo(_gpuBlock.View);
        else arena.AttachTo(_block);
    }

    internal void Detach(ActivationArena arena)
    {
        if (!_arenas.Remove(arena)) return;
        if (_device is IlgpuDevice) arena.AttachTo(default(ArrayView<byte>));
        else arena.AttachTo(null);
    }

    private void Grow(long bytes)
    {
        Release();
        _bytes = bytes;
        Allocations++;
        if (_device is IlgpuDevice gpu)
        {
            _gpuBlock = gpu.AllocateBytes(bytes);
            foreach (var arena in _arenas) arena.AttachTo(_gpuBlock.View);
            return;
        }
        _block = _device.Allocate(bytes);
        foreach (var arena in _arenas) arena.AttachTo(_block);
    }

    private void Release()
    {
        if (_gpuBlock is not null)
        {
            _gpuBlock.Dispose();
            _gpuBlock = null;
        }
        if (_block != null)
        {
            _device.Free(_block);
            _block = null;
        }
    }

    /// <summary>Frees the block; the plans that viewed it must be disposed first (or be rebuilt).</summary>
    public void Dispose()
    {
        foreach (var arena in _arenas.ToList()) Detach(arena);
        Release();
        _bytes = 0;
    }
}
