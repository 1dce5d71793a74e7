using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Gpu;

namespace ModelGen;

/// <summary>A dense, contiguous, row-major tensor of float or double on a device. Memory is native and freed
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

    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32, Device? device = null)
    {
        device ??= Device.Cpu;
        if (device is IlgpuDevice gpu)
        {
            gpu.CheckDType(dtype);
            var buffer = gpu.AllocateBytes((long)shape.Count * dtype.Size());
            return new Tensor(device, dtype, shape, null, ownsMemory: true) { _gpuBuffer = buffer, _gpuBytes = buffer.View };
        }
        var data = device.Allocate((long)shape.Count * dtype.Size());
        return new Tensor(device, dtype, shape, data, ownsMemory: true);
    }

    /// <summary>A copy of this tensor on another device.</summary>
    public Tensor To(Device device)
    {
        var copy = Zeros(Shape, DType, device);
        if (DType == DType.Float64) copy.CopyFrom<double>(ToDoubleArray());
        else copy.CopyFrom<float>(ToArray());
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

    /// <summary>The elements of an ILGPU tensor as a float view (for kernels).</summary>
    public ArrayView<float> GpuView => GpuBytes.Cast<float>().SubView(0, Count);

    internal void AttachGpu(ArrayView<byte> bytes) => _gpuBytes = bytes;

    public static Tensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    public static Tensor From(ReadOnlySpan<float> values, params int[] dims) => From(values, new Shape(dims), DType.Float32);

    public static Tensor From(ReadOnlySpan<double> values, params int[] dims) => From(values, new Shape(dims), DType.Float64);

    public static Tensor From<TSource>(ReadOnlySpan<TSource> values, Shape shape, DType dtype, Device? device = null)
        where TSource : unmanaged, INumberBase<TSource>
    {
        if (values.Length != shape.Count)
            throw new ArgumentException($"{values.Length} values cannot fill a tensor of shape {shape} ({shape.Count} elements).");
        var t = Zeros(shape, dtype, device);
        t.CopyFrom(values);
        return t;
    }

    /// <summary>Copies (and converts) values into this tensor.</summary>
    public void CopyFrom<TSource>(ReadOnlySpan<TSource> values) where TSource : unmanaged, INumberBase<TSource>
    {
        if (values.Length != Count)
            throw new ArgumentException($"{values.Length} values cannot fill a tensor of shape {Shape}.");
        if (!Device.IsCpu)
        {
            var host = new float[Count];
            Convert(values, host.AsSpan());
            GpuView.CopyFromCPU(host);
            return;
        }
        if (DType == DType.Float64) Convert(values, AsSpan<double>());
        else Convert(values, AsSpan<float>());
    }

    public void CopyFrom(Tensor source)
    {
        if (source.Count != Count) throw new ArgumentException($"Cannot copy a tensor of shape {source.Shape} into one of shape {Shape}.");
        if (source.DType == DType.Float64) CopyFrom<double>(source.AsSpan<double>());
        else CopyFrom<float>(source.AsSpan<float>());
    }

    private static void Convert<TSource, TDest>(ReadOnlySpan<TSource> source, Span<TDest> dest)
        where TSource : unmanaged, INumberBase<TSource> where TDest : unmanaged, INumberBase<TDest>
    {
        if (typeof(TSource) == typeof(TDest))
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<TSource, TDest>(source).CopyTo(dest);
            return;
        }
        for (int i = 0; i < source.Length; i++) dest[i] = TDest.CreateTruncating(source[i]);
    }

    public float[] ToArray()
    {
        var result = new float[Count];
        if (!Device.IsCpu)
        {
            GpuView.CopyToCPU(result);
            return result;
        }
        if (DType == DType.Float32) AsSpan<float>().CopyTo(result);
        else Convert<double, float>(AsSpan<double>(), result);
        return result;
    }

    public double[] ToDoubleArray()
    {
        var result = new double[Count];
        if (!Device.IsCpu) return Array.ConvertAll(ToArray(), v => (double)v);
        if (DType == DType.Float64) AsSpan<double>().CopyTo(result);
        else Convert<float, double>(AsSpan<float>(), result);
        return result;
    }

    /// <summary>The single value of a one-element tensor (a loss, a sum).</summary>
    public double Item()
    {
        if (Count != 1) throw new InvalidOperationException($"Item() needs a one-element tensor; this one has shape {Shape}.");
        if (!Device.IsCpu) return ToArray()[0];
        return DType == DType.Float64 ? AsSpan<double>()[0] : AsSpan<float>()[0];
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
            throw new InvalidOperationException($"Tensor of shape {Shape} holds {DType}, not {typeof(T).Name}.");
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
