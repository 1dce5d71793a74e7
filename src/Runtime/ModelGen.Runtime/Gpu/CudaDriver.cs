using System.Reflection;
using System.Runtime.InteropServices;

namespace ModelGen.Gpu;

/// <summary>
/// Finds and describes the NVIDIA driver library. ILGPU imports it as <c>cuda</c>, which .NET probes as
/// <c>libcuda.so</c>; driver-only machines and containers often have only <c>libcuda.so.1</c> (the development symlink
/// comes with the CUDA toolkit), so <see cref="InstallResolver"/> maps the import to it. <see cref="Describe"/> says what
/// was found when ILGPU reports no CUDA device: whether the library loaded, the driver version, what <c>cuInit</c>
/// returned and each device's compute capability, read straight from the driver API.
/// </summary>
public static unsafe class CudaDriver
{
    private static readonly string[] Candidates = OperatingSystem.IsWindows()
        ? ["nvcuda.dll"]
        : ["libcuda.so", "libcuda.so.1"];

    private static int _installed;

    /// <summary>Maps ILGPU's <c>cuda</c> import to the first driver library that loads (idempotent).</summary>
    public static void InstallResolver()
    {
        if (Interlocked.Exchange(ref _installed, 1) != 0) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(ILGPU.Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // the application installed its own resolver for ILGPU: keep it
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName is not ("cuda" or "nvcuda")) return IntPtr.Zero;
        return TryLoad(out var handle, out _) ? handle : IntPtr.Zero;
    }

    /// <summary>Loads the driver library: its handle and the name that loaded, or false.</summary>
    public static bool TryLoad(out IntPtr handle, out string? loadedName)
    {
        foreach (var name in Candidates)
            if (NativeLibrary.TryLoad(name, out handle))
            {
                loadedName = name;
                return true;
            }
        handle = IntPtr.Zero;
        loadedName = null;
        return false;
    }

    /// <summary>One paragraph on the driver: library, version, cuInit's result, devices and their compute capability.</summary>
    public static string Describe()
    {
        if (!TryLoad(out var handle, out var name))
            return $"NVIDIA driver library not found (tried {string.Join(", ", Candidates)}): no NVIDIA driver is installed, or it is not on the library path (LD_LIBRARY_PATH).";
        var lines = new List<string> { $"NVIDIA driver library {name} loaded." };
        try
        {
            var getVersion = (delegate* unmanaged<int*, int>)Export(handle, "cuDriverGetVersion");
            int version = 0;
            int rc = getVersion(&version);
            lines.Add(rc == 0 ? $"Driver supports CUDA {version / 1000}.{version % 1000 / 10}." : $"cuDriverGetVersion failed: error {rc}.");
            var init = (delegate* unmanaged<uint, int>)Export(handle, "cuInit");
            rc = init(0);
            if (rc != 0)
            {
                lines.Add($"cuInit failed: {ErrorName(rc)} ({rc}).");
                return string.Join(" ", lines);
            }
            var getCount = (delegate* unmanaged<int*, int>)Export(handle, "cuDeviceGetCount");
            var getDevice = (delegate* unmanaged<int*, int, int>)Export(handle, "cuDeviceGet");
            var getAttribute = (delegate* unmanaged<int*, int, int, int>)Export(handle, "cuDeviceGetAttribute");
            int count = 0;
            getCount(&count);
            lines.Add($"{count} CUDA device(s).");
            for (int i = 0; i < count; i++)
            {
                int device = 0, major = 0, minor = 0;
                getDevice(&device, i);
                getAttribute(&major, 75, device); // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
                getAttribute(&minor, 76, device); // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
                lines.Add($"Device {i}: compute capability {major}.{minor}.");
            }
        }
        catch (EntryPointNotFoundException e)
        {
            lines.Add(e.Message);
        }
        return string.Join(" ", lines);
    }

    private static IntPtr Export(IntPtr handle, string name)
        => NativeLibrary.TryGetExport(handle, name, out var address) ? address : throw new EntryPointNotFoundException($"The driver library has no {name}.");

    private static string ErrorName(int code) => code switch
    {
        100 => "CUDA_ERROR_NO_DEVICE (no GPU visible: check the container's --gpus / NVIDIA_VISIBLE_DEVICES)",
        35 => "CUDA_ERROR_INSUFFICIENT_DRIVER (the kernel module is older than the driver library)",
        999 => "CUDA_ERROR_UNKNOWN",
        3 => "CUDA_ERROR_NOT_INITIALIZED",
        101 => "CUDA_ERROR_INVALID_DEVICE",
        _ => "CUDA error",
    };
}
