using System.Runtime.InteropServices;

namespace ModelGen;

/// <summary>Where tensors live and kernels run. <see cref="Cpu"/> is the SIMD CPU engine.</summary>
public abstract class Device
{
    private static Device? _default;

    public abstract string Name { get; }
    public abstract bool IsCpu { get; }

    /// <summary>The multi-threaded Vector512/Vector256/scalar CPU engine.</summary>
    public static Device Cpu { get; } = new CpuDevice();

    /// <summary>The device chosen by <c>MODELGEN_DEVICE</c> (<c>cpu</c> when unset).</summary>
    public static Device Default
    {
        get
        {
            if (_default is null)
            {
                _default = Parse(Environment.GetEnvironmentVariable("MODELGEN_DEVICE") ?? "cpu");
                Console.Error.WriteLine($"ModelGen: device {_default.Name}");
            }
            return _default;
        }
        set => _default = value;
    }

    /// <summary>Parses a device name: <c>cpu</c>, or the GPU names the ILGPU engine registers.</summary>
    public static Device Parse(string name)
    {
        var key = name.Trim().ToLowerInvariant();
        if (key == "cpu") return Cpu;
        return Gpu.IlgpuDevice.TryCreate(key)
               ?? throw new ArgumentException($"Unknown device '{name}'. Known: cpu, cuda, cuda:N, opencl, opencl:N, ilgpu-cpu.");
    }

    internal abstract unsafe void* Allocate(long bytes);
    internal abstract unsafe void Free(void* data);

    /// <summary>Native memory blocks this device has allocated and not freed yet (tensors, activation plans, optimizer
    /// state): constant over training steps and back where it was after <c>Dispose</c>, so tests can check for leaks
    /// exactly. Counted by the CPU engine; 0 for devices that do not count.</summary>
    public virtual long LiveAllocations => 0;

    public override string ToString() => Name;
}

internal sealed class CpuDevice : Device
{
    public override string Name => "cpu";
    public override bool IsCpu => true;

    private long _live;

    public override long LiveAllocations => Interlocked.Read(ref _live);

    // Zeroed by calloc rather than by writing: large blocks then come from the OS as zero pages that become resident
    // only when first written, so buffers that a run never touches (an inference plan's gradient buffers, the
    // gradients of frozen parameters) cost no memory. Aligned to 64 bytes by hand, the block's own pointer kept
    // just before the aligned one for Free.
    internal override unsafe void* Allocate(long bytes)
    {
        nuint size = (nuint)Math.Max(bytes, 64);
        byte* raw = (byte*)NativeMemory.AllocZeroed(size + 64 + (nuint)sizeof(void*));
        byte* aligned = (byte*)(((nuint)raw + (nuint)sizeof(void*) + 63) & ~(nuint)63);
        ((void**)aligned)[-1] = raw;
        Interlocked.Increment(ref _live);
        return aligned;
    }

    internal override unsafe void Free(void* data)
    {
        NativeMemory.Free(((void**)data)[-1]);
        Interlocked.Decrement(ref _live);
    }
}
