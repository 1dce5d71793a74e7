using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace ModelGen.Gpu;

/// <summary>
/// A device of the ILGPU engine: CUDA, OpenCL, or ILGPU's CPU accelerator (a slow simulator, for tests). Tensors live in
/// device buffers; kernels are loaded once per accelerator and their typed launchers cached.
/// </summary>
public sealed class IlgpuDevice : Device, IDisposable
{
    private static readonly object Lock = new();
    private static readonly Dictionary<string, IlgpuDevice> Devices = new();
    private static Context? _context;
    private readonly Dictionary<string, Delegate> _launchers = new();

    private IlgpuDevice(string name, Accelerator accelerator)
    {
        Name = name;
        Accelerator = accelerator;
    }

    public override string Name { get; }
    public override bool IsCpu => false;
    public Accelerator Accelerator { get; }

    /// <summary>Whether the GEMM runs tiled in shared memory (GPUs) or one thread per element (ILGPU's CPU accelerator,
    /// which simulates group barriers at great cost; a test sets it to cover the tiled kernel there too).</summary>
    internal bool TiledGemm { get; set; }

    /// <summary>The GEMM tile edge: 16, or less where a group holds fewer than 256 threads.</summary>
    internal int GemmTile => Math.Min(16, (int)Math.Sqrt(Accelerator.MaxNumThreadsPerGroup));

    /// <summary>Resolves cuda, cuda:N, opencl, opencl:N and ilgpu-cpu (null for other names).</summary>
    public static IlgpuDevice? TryCreate(string key)
    {
        string kind = key;
        int index = 0;
        int colon = key.IndexOf(':');
        if (colon > 0)
        {
            kind = key[..colon];
            if (!int.TryParse(key[(colon + 1)..], out index) || index < 0) return null;
        }
        if (kind is not ("cuda" or "opencl" or "ilgpu-cpu")) return null;
        lock (Lock)
        {
            var canonical = kind == "ilgpu-cpu" ? kind : $"{kind}:{index}";
            if (Devices.TryGetValue(canonical, out var existing)) return existing;
            if (kind == "cuda") CudaDriver.InstallResolver();
            _context ??= CreateContext();
            Accelerator accelerator = kind switch
            {
                "cuda" => _context.GetCudaDevices() is { Count: > 0 } cuda && index < cuda.Count
                    ? cuda[index].CreateAccelerator(_context)
                    : throw new ArgumentException($"No CUDA device {index}: ILGPU found {_context.GetCudaDevices().Count}. {CudaDriver.Describe()} Use MODELGEN_DEVICE=cpu to run on the CPU engine."),
                "opencl" => _context.GetCLDevices() is { Count: > 0 } cl && index < cl.Count
                    ? cl[index].CreateAccelerator(_context)
                    : throw new ArgumentException($"No OpenCL device {index}: found {_context.GetCLDevices().Count}."),
                _ => _context.GetCPUDevice(0).CreateAccelerator(_context),
            };
            var device = new IlgpuDevice($"{canonical} ({accelerator.Name})", accelerator) { TiledGemm = accelerator.AcceleratorType != AcceleratorType.CPU };
            Devices[canonical] = device;
            return device;
        }
    }

    /// <summary>The ILGPU context every device of the engine shares. <paramref name="algorithms"/> turns on ILGPU.Algorithms,
    /// which gives MathF.Exp, Log, Sqrt and the rest their PTX and OpenCL forms (without it, a kernel calling MathF.Exp
    /// fails to compile for CUDA with "'ExpF' does not have an intrinsic implementation for this backend"); off only in the
    /// test that shows this.</summary>
    internal static Context CreateContext(bool algorithms = true) => Context.Create(builder =>
    {
        builder.Default().Optimize(OptimizationLevel.O1);
        if (algorithms) builder.EnableAlgorithms();
    });

    /// <summary>Float32 tensors compute here; Int32, Int64, Bool, Float16 and BFloat16 tensors are stored and copied
    /// (no kernels); Float64 is refused, so that a Float64 model fails as it is bound rather than in its first op.</summary>
    internal void CheckStorage(DType dtype)
    {
        if (dtype == DType.Float64)
            throw new NotSupportedException($"The ILGPU engine computes in Float32; {dtype} models run on the CPU engine.");
        _ = dtype.Size(); // an undefined dtype throws
    }

    internal MemoryBuffer1D<byte, Stride1D.Dense> AllocateBytes(long bytes)
    {
        try
        {
            var buffer = Accelerator.Allocate1D<byte>(Math.Max(4, bytes));
            buffer.MemSetToZero();
            return buffer;
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            throw new OutOfMemoryException(
                $"{Name}: cannot allocate {bytes:N0} bytes ({Accelerator.MemorySize:N0} bytes in all on the device).", e);
        }
    }

    /// <summary>The cached launcher of a kernel, loaded on first use (ILGPU compiles each kernel once per accelerator).</summary>
    public TDelegate Launcher<TDelegate>(string key, Func<Accelerator, TDelegate> load) where TDelegate : Delegate
    {
        lock (_launchers)
        {
            if (_launchers.TryGetValue(key, out var launcher)) return (TDelegate)launcher;
            var loaded = load(Accelerator);
            _launchers[key] = loaded;
            return loaded;
        }
    }

    private readonly Dictionary<string, Tensor> _scratch = new();

    /// <summary>A device tensor of at least <paramref name="count"/> floats kept under <paramref name="name"/> for the
    /// ops' intermediate results that outlive no call (attention's dP, a convolution's column matrix); grown on demand.
    /// One op at a time may use a name: the engine runs a model's ops in order.</summary>
    internal ArrayView<float> Scratch(string name, long count)
    {
        lock (_scratch)
        {
            if (!_scratch.TryGetValue(name, out var buffer) || buffer.Count < count)
            {
                buffer?.Dispose();
                buffer = Tensor.Zeros(new Shape(checked((int)Math.Max(1, count))), DType.Float32, this);
                _scratch[name] = buffer;
            }
            return buffer.GpuView.SubView(0, Math.Max(1, count));
        }
    }

    public void Synchronize() => Accelerator.Synchronize();

    internal override unsafe void* Allocate(long bytes) => throw new InvalidOperationException($"{Name} memory is not host memory.");
    internal override unsafe void Free(void* data) => throw new InvalidOperationException($"{Name} memory is not host memory.");

    public void Dispose() => Accelerator.Dispose();
}
