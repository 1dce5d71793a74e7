using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ModelGen.Reliability.Tests;

/// <summary>Process memory as the long-run and dispose tests measure it.</summary>
internal static partial class NativeMemory
{
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 MallInfo2Native();

    /// <summary>Bytes in use in the C heap (glibc mallinfo2: allocated small blocks plus mmapped large ones), where the
    /// CPU engine's tensors live; null where mallinfo2 is not available.</summary>
    public static long? HeapInUse()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var info = MallInfo2Native();
            return (long)info.Uordblks + (long)info.Hblkhd;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Open file descriptors (Linux), else the process's handle count.</summary>
    public static int Handles()
    {
        if (Directory.Exists("/proc/self/fd")) return Directory.GetFiles("/proc/self/fd").Length;
        using var p = Process.GetCurrentProcess();
        return p.HandleCount;
    }

    public sealed record Snapshot(long Managed, long WorkingSet, long PrivateBytes, long? Heap, int Handles)
    {
        public override string ToString() =>
            $"managed {Managed / 1024.0:F0} KiB, working set {WorkingSet / 1048576.0:F1} MiB, private {PrivateBytes / 1048576.0:F1} MiB, "
            + $"C heap {(Heap is { } h ? $"{h / 1024.0:F0} KiB" : "n/a")}, handles {Handles}";
    }

    /// <summary>Collects fully, then measures.</summary>
    public static Snapshot Measure()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        using var p = Process.GetCurrentProcess();
        return new Snapshot(managed, p.WorkingSet64, p.PrivateMemorySize64, HeapInUse(), Handles());
    }
}
