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
        _block = _device.Allocate(Math.Max(1, _elements) * _dtype.Size());
        foreach (var (tensor, offset) in _tensors) tensor.Attach((byte*)_block + offset * _dtype.Size());
    }

    public void Dispose()
    {
        if (_block == null) return;
        foreach (var (tensor, _) in _tensors) tensor.Attach(null);
        _device.Free(_block);
        _block = null;
    }
}
