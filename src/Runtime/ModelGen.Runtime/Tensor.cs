using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Gpu;
using Half = System.Half;

namespace ModelGen;

/// <summary>A dense, contiguous, row-major tensor of any <see cref="ModelGen.DType"/> on a device. Memory is native and freed
/// deterministically by <see cref="Dispose"/>; tensors a model owns (activations, parameters) are freed with the model.</summary>
public sealed unsafe partial class Tensor : IDisposable
{
    private void* _data;
    private readonly bool _ownsMemory;
    private readonly Tensor? _viewOf;
    private MemoryBuffer1D<byte, Stride1D.Dense>? _gpuBuffer; // owned device memory (ILGPU engine)
    private ArrayView<byte> _gpuBytes;                         // this tensor's bytes on the device (arena slot or buffer)

    internal Tensor(Device device, DType dtype, Shape shape, void* data, bool ownsMemory, Tensor? viewOf = null)
    {
        Device = device;
        DType = dtype;
        Shape = shape;
        _data = data;
        _ownsMemory = ownsMemory;
        _viewOf = viewOf;
    }

    public Shape Shape { get; }
    public DType DType { get; private set; }
    public Device Device { get; private set; }
    public int Count => Shape.Count;
    public bool IsDisposed => _viewOf?.IsDisposed ?? (Device.IsCpu ? _data == null : !_gpuBytes.IsValid);

    /// <summary>When set, a model's <c>Backward</c> accumulates the gradient with respect to this input into <see cref="Grad"/>.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient (same shape), allocated on the first backward pass that reaches this tensor.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>A zero-filled tensor. Every dtype can live on the CPU; the ILGPU engine stores every dtype but Float64
    /// (its kernels compute in Float32: integer, bool and 16-bit tensors there can only be created and copied).</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32, Device? device = null)
    {
        device ??= Device.Cpu;
        long bytes = (long)shape.Count * dtype.Size(); // throws for an undefined dtype
        if (device is IlgpuDevice gpu)
        {
            gpu.CheckStorage(dtype);
            var buffer = gpu.AllocateBytes(bytes);
            return new Tensor(device, dtype, shape, null, ownsMemory: true) { _gpuBuffer = buffer, _gpuBytes = buffer.View };
        }
        var data = device.Allocate(bytes);
        return new Tensor(device, dtype, shape, data, ownsMemory: true);
    }

    /// <summary>A copy of this tensor on another device (same dtype, same bytes).</summary>
    public Tensor To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var copy = Zeros(Shape, DType, device);
        try
        {
            copy.CopyBytesFrom(this);
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        return copy;
    }

    /// <summary>A copy of this tensor converted to <paramref name="dtype"/>, on the same device (a copy even when the dtype
    /// is already <paramref name="dtype"/>). Conversions follow PyTorch's <c>.to(dtype)</c>: to Float16/BFloat16 rounds to
    /// nearest even (through float), from them is exact; floating to integer truncates toward zero (NaN gives 0, values out
    /// of range saturate); to Bool is <c>value != 0</c>.</summary>
    public Tensor To(DType dtype)
    {
        if (!Device.IsCpu)
        {
            using var host = To(Device.Cpu);
            using var converted = host.To(dtype);
            return converted.To(Device);
        }
        var copy = Zeros(Shape, dtype, Device);
        try
        {
            copy.CopyFrom(this);
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        return copy;
    }

    /// <summary>The device bytes of an ILGPU tensor (views share their base tensor's memory).</summary>
    internal ArrayView<byte> GpuBytes
    {
        get
        {
            var bytes = _viewOf is null ? _gpuBytes : _viewOf._gpuBytes;
            if (!bytes.IsValid) throw new ObjectDisposedException(nameof(Tensor), "This tensor (or the model that owns it) has been disposed.");
            return bytes;
        }
    }

    /// <summary>The elements of an ILGPU Float32 tensor as a float view (for kernels).</summary>
    public ArrayView<float> GpuView
    {
        get
        {
            if (DType != DType.Float32)
                throw new NotSupportedException(
                    $"Tensor of shape {Shape} on {Device.Name} holds {DType}: the ILGPU engine computes in Float32 and has no {DType} kernels " +
                    $"({DType} tensors can be stored there and copied, not computed with). Convert it first with To(DType.Float32).");
            return GpuBytes.Cast<float>().SubView(0, Count);
        }
    }

    internal void AttachGpu(ArrayView<byte> bytes) => _gpuBytes = bytes;

    public static Tensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    public static Tensor From(ReadOnlySpan<float> values, params int[] dims) => From(values, new Shape(dims), DType.Float32);

    public static Tensor From(ReadOnlySpan<double> values, params int[] dims) => From(values, new Shape(dims), DType.Float64);

    /// <summary>A tensor of <paramref name="dtype"/> holding <paramref name="values"/> (float, double, int, long, bool,
    /// Half, BFloat16 or another primitive integer), converted as <see cref="To(DType)"/> converts.</summary>
    public static Tensor From<TSource>(ReadOnlySpan<TSource> values, Shape shape, DType dtype, Device? device = null)
        where TSource : unmanaged
    {
        if (values.Length != shape.Count)
            throw new ArgumentException($"{values.Length} values cannot fill a tensor of shape {shape} ({shape.Count} elements).");
        var t = Zeros(shape, dtype, device);
        try
        {
            t.CopyFrom(values);
        }
        catch
        {
            t.Dispose();
            throw;
        }
        return t;
    }

    /// <summary>Copies (and converts, as <see cref="To(DType)"/> does) values into this tensor.</summary>
    public void CopyFrom<TSource>(ReadOnlySpan<TSource> values) where TSource : unmanaged
    {
        if (values.Length != Count)
            throw new ArgumentException($"{values.Length} values cannot fill a tensor of shape {Shape}.");
        if (!Device.IsCpu)
        {
            if (DType == DType.Float32 && typeof(TSource) == typeof(float))
            {
                GpuView.CopyFromCPU(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(
                    System.Runtime.InteropServices.MemoryMarshal.Cast<TSource, float>(values)), Count);
                return;
            }
            var host = new byte[(long)Count * DType.Size()];
            fixed (byte* h = host) ConvertInto(values, DType, h, Count);
            WriteGpuBytes(host);
            return;
        }
        ConvertInto(values, DType, Data, Count);
    }

    /// <summary>Copies (and converts, as <see cref="To(DType)"/> does) another tensor's elements into this one (same
    /// element count; any devices).</summary>
    public void CopyFrom(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Count != Count) throw new ArgumentException($"Cannot copy a tensor of shape {source.Shape} into one of shape {Shape}.");
        if (source.DType == DType)
        {
            CopyBytesFrom(source);
            return;
        }
        if (!source.Device.IsCpu)
        {
            using var host = source.To(Device.Cpu);
            CopyFrom(host);
            return;
        }
        void* p = source.Data;
        switch (source.DType)
        {
            case DType.Float32: CopyFrom(new ReadOnlySpan<float>(p, Count)); break;
            case DType.Float64: CopyFrom(new ReadOnlySpan<double>(p, Count)); break;
            case DType.Int32: CopyFrom(new ReadOnlySpan<int>(p, Count)); break;
            case DType.Int64: CopyFrom(new ReadOnlySpan<long>(p, Count)); break;
            case DType.Bool: CopyFrom(new ReadOnlySpan<bool>(p, Count)); break;
            case DType.Float16: CopyFrom(new ReadOnlySpan<Half>(p, Count)); break;
            case DType.BFloat16: CopyFrom(new ReadOnlySpan<BFloat16>(p, Count)); break;
            default: throw new NotSupportedException($"Cannot copy from a tensor of dtype {source.DType}.");
        }
    }

    /// <summary>Copies the elements, converted to <typeparamref name="T"/>, into <paramref name="dest"/> (which holds
    /// exactly <see cref="Count"/> elements).</summary>
    public void CopyTo<T>(Span<T> dest) where T : unmanaged
    {
        if (dest.Length != Count)
            throw new ArgumentException($"A tensor of shape {Shape} ({Count} elements) cannot be copied into {dest.Length} elements.", nameof(dest));
        if (!Device.IsCpu)
        {
            if (DType == DType.Float32 && typeof(T) == typeof(float))
            {
                GpuView.CopyToCPU(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(
                    System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(dest)), Count);
                return;
            }
            var host = ReadGpuBytes();
            fixed (byte* h = host) ConvertFrom(DType, h, Count, dest);
            return;
        }
        ConvertFrom(DType, Data, Count, dest);
    }

    /// <summary>The elements as floats (converted from any dtype; Int64 values beyond 2²⁴ round).</summary>
    public float[] ToArray() => ToArray<float>();

    /// <summary>The elements as doubles (converted from any dtype; Int64 values beyond 2⁵³ round).</summary>
    public double[] ToDoubleArray() => ToArray<double>();

    /// <summary>The elements converted to <typeparamref name="T"/> (float, double, int, long, bool, Half or BFloat16),
    /// as <see cref="To(DType)"/> converts.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[Count];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>The single value of a one-element tensor (a loss, a sum), as a double.</summary>
    public double Item() => Item<double>();

    /// <summary>The single value of a one-element tensor, converted to <typeparamref name="T"/>.</summary>
    public T Item<T>() where T : unmanaged
    {
        if (Count != 1) throw new InvalidOperationException($"Item() needs a one-element tensor; this one has shape {Shape}.");
        T value = default;
        CopyTo(new Span<T>(ref value));
        return value;
    }

    private static void ConvertInto<TSource>(ReadOnlySpan<TSource> values, DType dtype, void* dest, int count) where TSource : unmanaged
    {
        switch (dtype)
        {
            case DType.Float32: ElementConvert.Convert(values, new Span<float>(dest, count)); break;
            case DType.Float64: ElementConvert.Convert(values, new Span<double>(dest, count)); break;
            case DType.Int32: ElementConvert.Convert(values, new Span<int>(dest, count)); break;
            case DType.Int64: ElementConvert.Convert(values, new Span<long>(dest, count)); break;
            case DType.Bool: ElementConvert.Convert(values, new Span<bool>(dest, count)); break;
            case DType.Float16: ElementConvert.Convert(values, new Span<Half>(dest, count)); break;
            case DType.BFloat16: ElementConvert.Convert(values, new Span<BFloat16>(dest, count)); break;
            default: throw new NotSupportedException($"Cannot write elements of dtype {dtype}.");
        }
    }

    private static void ConvertFrom<TDest>(DType dtype, void* source, int count, Span<TDest> dest) where TDest : unmanaged
    {
        switch (dtype)
        {
            case DType.Float32: ElementConvert.Convert(new ReadOnlySpan<float>(source, count), dest); break;
            case DType.Float64: ElementConvert.Convert(new ReadOnlySpan<double>(source, count), dest); break;
            case DType.Int32: ElementConvert.Convert(new ReadOnlySpan<int>(source, count), dest); break;
            case DType.Int64: ElementConvert.Convert(new ReadOnlySpan<long>(source, count), dest); break;
            case DType.Bool: ElementConvert.Convert(new ReadOnlySpan<bool>(source, count), dest); break;
            case DType.Float16: ElementConvert.Convert(new ReadOnlySpan<Half>(source, count), dest); break;
            case DType.BFloat16: ElementConvert.Convert(new ReadOnlySpan<BFloat16>(source, count), dest); break;
            default: throw new NotSupportedException($"Cannot read elements of dtype {dtype}.");
        }
    }

    private long ByteCount => (long)Count * DType.Size();

    /// <summary>Copies the bytes of a tensor of the same dtype and element count, across devices.</summary>
    private void CopyBytesFrom(Tensor source)
    {
        long bytes = ByteCount;
        if (bytes == 0) return;
        if (source.Device.IsCpu && Device.IsCpu)
        {
            Buffer.MemoryCopy(source.Data, Data, bytes, bytes);
            return;
        }
        if (source.Device.IsCpu)
        {
            GpuBytes.SubView(0, bytes).CopyFromCPU(ref *(byte*)source.Data, bytes);
            return;
        }
        if (Device.IsCpu)
        {
            source.GpuBytes.SubView(0, bytes).CopyToCPU(ref *(byte*)Data, bytes);
            return;
        }
        var host = source.ReadGpuBytes();
        WriteGpuBytes(host);
    }

    private byte[] ReadGpuBytes()
    {
        var host = new byte[ByteCount];
        if (host.Length > 0) GpuBytes.SubView(0, host.Length).CopyToCPU(host);
        return host;
    }

    private void WriteGpuBytes(byte[] host)
    {
        if (host.Length > 0) GpuBytes.SubView(0, host.Length).CopyFromCPU(host);
    }

    /// <summary>The elements as a span (CPU tensors only).</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        CheckAccess<T>();
        return new Span<T>(Data, Count);
    }

    /// <summary>A view of the same memory with another shape of the same element count.</summary>
    public Tensor View(Shape shape)
    {
        if (shape.Count != Count)
            throw new ArgumentException($"Cannot view a tensor of shape {Shape} ({Count} elements) as {shape} ({shape.Count} elements).");
        return new Tensor(Device, DType, shape, null, ownsMemory: false, viewOf: _viewOf ?? this);
    }

    public Tensor View(params int[] dims) => View(new Shape(dims));

    /// <summary>A view with another shape; one dimension may be −1 (inferred), as in PyTorch.</summary>
    public Tensor Reshape(params int[] dims) => View(Shape.Resolve(Shape, dims));

    // The arithmetic of a [Model]'s Forward: compiled by the generator, not run eagerly.
    public static Tensor operator +(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor + Tensor");
    public static Tensor operator -(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor - Tensor");
    public static Tensor operator -(Tensor a) => throw Dsl.OutsideForward("-Tensor");
    public static Tensor operator *(Tensor a, double s) => throw Dsl.OutsideForward("Tensor * scalar");
    public static Tensor operator *(double s, Tensor a) => throw Dsl.OutsideForward("scalar * Tensor");
    public static Tensor operator /(Tensor a, double s) => throw Dsl.OutsideForward("Tensor / scalar");
    public static Tensor operator *(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor * Tensor");
    public static Tensor operator /(Tensor a, Tensor b) => throw Dsl.OutsideForward("Tensor / Tensor");
    public static Tensor operator +(Tensor a, double c) => throw Dsl.OutsideForward("Tensor + scalar");
    public static Tensor operator +(double c, Tensor a) => throw Dsl.OutsideForward("scalar + Tensor");
    public static Tensor operator -(Tensor a, double c) => throw Dsl.OutsideForward("Tensor - scalar");
    public static Tensor operator -(double c, Tensor a) => throw Dsl.OutsideForward("scalar - Tensor");

    internal void* Data
    {
        get
        {
            var p = _viewOf is null ? _data : _viewOf._data;
            if (p == null) throw new ObjectDisposedException(nameof(Tensor), "This tensor (or the model that owns it) has been disposed.");
            return p;
        }
    }

    internal T* Ptr<T>() where T : unmanaged
    {
        CheckAccess<T>();
        return (T*)Data;
    }

    private void CheckAccess<T>() where T : unmanaged
    {
        if (!Device.IsCpu) throw new InvalidOperationException($"Tensor of shape {Shape} lives on {Device.Name}; copy it to the CPU first.");
        if (DTypeExtensions.Of<T>() != DType)
            throw new InvalidOperationException(
                $"Tensor of shape {Shape} holds {DType}, not {typeof(T).Name}: convert it with To(DType) or read it with ToArray<{typeof(T).Name}>().");
    }

    /// <summary>Points an arena tensor at its slot (or detaches it when the arena is freed).</summary>
    internal void Attach(void* data) => _data = data;

    internal void EnsureGrad()
    {
        Grad ??= Zeros(Shape, DType, Device);
    }

    public void Dispose()
    {
        if (_ownsMemory && _data != null)
        {
            Device.Free(_data);
            _data = null;
        }
        if (_gpuBuffer is not null)
        {
            _gpuBuffer.Dispose();
            _gpuBuffer = null;
            _gpuBytes = default;
        }
        Grad?.Dispose();
    }

    /// <summary>Takes over <paramref name="source"/>'s storage, device and dtype (same shape), freeing its own: a
    /// [Parameter] field becomes its bound parameter in place. <paramref name="source"/> is left empty.</summary>
    internal void AdoptStorage(Tensor source)
    {
        if (!source.Shape.Equals(Shape) || source._viewOf is not null || _viewOf is not null || !source._ownsMemory || !_ownsMemory)
            throw new InvalidOperationException($"Cannot move the storage of {source} into {this}.");
        var grad = Grad;
        Grad = null;
        grad?.Dispose();
        Dispose();
        _data = source._data;
        _gpuBuffer = source._gpuBuffer;
        _gpuBytes = source._gpuBytes;
        Device = source.Device;
        DType = source.DType;
        source._data = null;
        source._gpuBuffer = null;
        source._gpuBytes = default;
    }

    public override string ToString() => $"Tensor{Shape} {DType} on {Device.Name}";
}
