using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Training;
using Mpi = MPI.Unsafe;

namespace ModelGen.Distributed;

/// <summary>Settings of <see cref="MpiBackend"/>.</summary>
public sealed record MpiOptions
{
    /// <summary>How long a gradient all-reduce (or a value average) may wait for the other ranks before the watchdog
    /// calls MPI_Abort. Default 60 s, or <c>MODELGEN_MPI_TIMEOUT</c> seconds when set.</summary>
    public TimeSpan CollectiveTimeout { get; init; } = EnvironmentTimeout() ?? TimeSpan.FromSeconds(60);

    /// <summary>The same for waits that legitimately last long: the initial broadcast (ranks start at different times),
    /// the barrier while rank 0 alone evaluates or writes a checkpoint, and MPI_Finalize. Default 30 minutes.</summary>
    public TimeSpan SyncTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Largest all-reduce buffer: gradients are flattened into contiguous buckets of at most this many bytes
    /// (DDP's default bucket size, 25 MiB), so a step makes ⌈gradient bytes / BucketBytes⌉ all-reduce calls.</summary>
    public int BucketBytes { get; init; } = 25 * 1024 * 1024;

    /// <summary>The native MPI library on Linux and macOS (MPI.NET binds msmpi): default <c>MODELGEN_MPI_LIBRARY</c> or
    /// MPICH's libmpich.so.12. It must have MPICH's ABI (MPICH, Intel MPI, MVAPICH); OpenMPI's handles differ.</summary>
    public string? NativeLibrary { get; init; }

    /// <summary>An unhandled exception on any rank prints itself and calls MPI_Abort, so the others stop at once instead
    /// of waiting for the watchdog.</summary>
    public bool AbortOnUnhandledException { get; init; } = true;

    private static TimeSpan? EnvironmentTimeout()
        => double.TryParse(Environment.GetEnvironmentVariable("MODELGEN_MPI_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s) : null;
}

/// <summary>
/// Data-parallel training across processes and machines with MPI (MPI.NET over MS-MPI on Windows, MPICH on Linux):
/// launch N copies with <c>mpirun.mpich -np N dotnet app.dll</c> and pass <see cref="FromLaunch"/> as
/// <see cref="TrainingArguments.Distributed"/>. Rank 0's weights are broadcast before training; before every optimizer
/// step the gradients are flattened into buckets of at most <see cref="MpiOptions.BucketBytes"/>, summed with one
/// in-place MPI_Allreduce per bucket and divided by the world size, so that every rank takes the same step. A watchdog
/// thread calls MPI_Abort, naming the step, when a collective outlives its timeout (a rank died or hangs).
/// </summary>
public sealed unsafe class MpiBackend : IDistributedBackend
{
    private static readonly object s_gate = new();
    private static MpiBackend? s_instance;

    private readonly MpiOptions _options;
    private readonly MPI.Environment _environment;
    private readonly CollectiveWatchdog _watchdog;
    private readonly List<Segment> _segments = new();
    private readonly Dictionary<Parameter, float[]> _staging = new(ReferenceEqualityComparer.Instance); // GPU tensors
    private float[] _floatBucket = [];
    private double[] _doubleBucket = [];
    private long _lastStep;
    private long _communicationTicks;
    private bool _disposed;

    private MpiBackend(MpiOptions options)
    {
        if (options.CollectiveTimeout <= TimeSpan.Zero || options.SyncTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), "MPI timeouts must be positive.");
        if (options.BucketBytes < sizeof(double)) throw new ArgumentOutOfRangeException(nameof(options), $"BucketBytes {options.BucketBytes} is too small.");
        _options = options;
        NativeMpi.Install(options.NativeLibrary);
        string[] args = [];
        _environment = new MPI.Environment(ref args, MPI.Threading.Multiple); // the watchdog thread may call MPI_Abort
        Rank = MPI.Communicator.world.Rank;
        WorldSize = MPI.Communicator.world.Size;
        ThreadLevel = MPI.Environment.Threading;
        _watchdog = new CollectiveWatchdog(OnTimeout);
        if (options.AbortOnUnhandledException && WorldSize > 1) AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
    }

    /// <summary>True when this process was started by an MPI launcher (mpirun/mpiexec of MPICH or MS-MPI set PMI_RANK and PMI_SIZE).</summary>
    public static bool IsLaunched
        => Environment.GetEnvironmentVariable("PMI_RANK") is not null && Environment.GetEnvironmentVariable("PMI_SIZE") is not null;

    /// <summary>An MPI backend when launched by mpirun, otherwise <see cref="SingleProcess"/> (so the same program runs
    /// with or without mpirun).</summary>
    public static IDistributedBackend FromLaunch(MpiOptions? options = null) => IsLaunched ? Initialize(options) : SingleProcess.Instance;

    /// <summary>Initialises MPI (once per process: MPI cannot be initialised again after MPI_Finalize). Without a
    /// launcher MPICH runs a single rank.</summary>
    public static MpiBackend Initialize(MpiOptions? options = null)
    {
        lock (s_gate)
        {
            if (s_instance is not null)
                throw new InvalidOperationException("MPI is already initialised in this process (MpiBackend.Initialize may be called once; MPI cannot be re-initialised after Dispose).");
            return s_instance = new MpiBackend(options ?? new MpiOptions());
        }
    }

    public int Rank { get; }
    public int WorldSize { get; }
    public MpiOptions Options => _options;

    /// <summary>The thread support MPI granted (Multiple requested: the watchdog calls MPI_Abort from its own thread).</summary>
    public MPI.Threading ThreadLevel { get; }

    /// <summary>MPI_Allreduce calls so far (gradient buckets and averaged values).</summary>
    public long AllreduceCalls { get; private set; }

    /// <summary>Gradient all-reduce calls so far (the buckets of every <see cref="AverageGradients"/>).</summary>
    public long GradientAllreduceCalls { get; private set; }

    /// <summary><see cref="AverageGradients"/> calls so far (optimizer steps).</summary>
    public long GradientSteps { get; private set; }
    public long BroadcastCalls { get; private set; }
    public long BarrierCalls { get; private set; }

    /// <summary>Bytes this rank passed to MPI_Allreduce.</summary>
    public long BytesReduced { get; private set; }

    /// <summary>Wall time spent inside MPI collectives (including waiting for slower ranks), and in packing buckets.</summary>
    public TimeSpan CommunicationTime => Stopwatch.GetElapsedTime(0, _communicationTicks);

    public void ResetStatistics()
    {
        AllreduceCalls = GradientAllreduceCalls = GradientSteps = BroadcastCalls = BarrierCalls = BytesReduced = 0;
        _communicationTicks = 0;
    }

    /// <summary>Copies rank 0's parameter values to every rank, in buckets.</summary>
    public void Broadcast(IReadOnlyList<Parameter> parameters)
    {
        ThrowIfDisposed();
        if (WorldSize == 1) return;
        long start = Stopwatch.GetTimestamp();
        Transfer<float>(parameters, grads: false, 0, broadcast: true);
        Transfer<double>(parameters, grads: false, 0, broadcast: true);
        _communicationTicks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Replaces every rank's gradients by their mean: ⌈bytes / BucketBytes⌉ in-place all-reduces (per dtype).</summary>
    public void AverageGradients(IReadOnlyList<Parameter> parameters, long step)
    {
        ThrowIfDisposed();
        _lastStep = step;
        GradientSteps++;
        if (WorldSize == 1) return;
        long start = Stopwatch.GetTimestamp();
        Transfer<float>(parameters, grads: true, step, broadcast: false);
        Transfer<double>(parameters, grads: true, step, broadcast: false);
        _communicationTicks += Stopwatch.GetTimestamp() - start;
    }

    public double Average(double value)
    {
        ThrowIfDisposed();
        if (WorldSize == 1) return value;
        long start = Stopwatch.GetTimestamp();
        double sum = value;
        _watchdog.Arm(Collective.Average, _lastStep, _options.CollectiveTimeout);
        int rc = Mpi.MPI_Allreduce(InPlace, (IntPtr)(&sum), 1, Mpi.MPI_DOUBLE, Mpi.MPI_SUM, Mpi.MPI_COMM_WORLD);
        _watchdog.Disarm();
        Check(rc, Collective.Average, _lastStep);
        AllreduceCalls++;
        BytesReduced += sizeof(double);
        _communicationTicks += Stopwatch.GetTimestamp() - start;
        return sum / WorldSize;
    }

    public void Barrier()
    {
        ThrowIfDisposed();
        if (WorldSize == 1) return;
        long start = Stopwatch.GetTimestamp();
        _watchdog.Arm(Collective.Barrier, _lastStep, _options.SyncTimeout);
        int rc = Mpi.MPI_Barrier(Mpi.MPI_COMM_WORLD);
        _watchdog.Disarm();
        Check(rc, Collective.Barrier, _lastStep);
        BarrierCalls++;
        _communicationTicks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Prints the message and calls MPI_Abort: every rank of the job ends (MPI_Abort does not return).</summary>
    public void Abort(string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"ModelGen.Distributed: rank {Rank} of {WorldSize}: {message}");
        Console.Error.Flush();
        Thread.Sleep(1000); // the launcher forwards a rank's output asynchronously: let the message get out before the kill
        Mpi.MPI_Abort(Mpi.MPI_COMM_WORLD, 1);
    }

    /// <summary>Calls MPI_Finalize (under the watchdog with <see cref="MpiOptions.SyncTimeout"/>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
        _watchdog.Arm(Collective.Finalize, _lastStep, _options.SyncTimeout);
        _environment.Dispose();
        _watchdog.Dispose();
    }

    private static IntPtr InPlace => new(-1); // MPI_IN_PLACE in MPICH and MS-MPI

    private readonly record struct Segment(Parameter Parameter, int Offset, int BucketOffset, int Count);

    /// <summary>Packs the tensors of one dtype into buckets and all-reduces (gradients) or broadcasts (values) each.</summary>
    private void Transfer<T>(IReadOnlyList<Parameter> parameters, bool grads, long step, bool broadcast)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dtype = typeof(T) == typeof(float) ? DType.Float32 : DType.Float64;
        long total = 0;
        for (int i = 0; i < parameters.Count; i++)
            if (Of(parameters[i], grads).DType == dtype) total += Of(parameters[i], grads).Count;
        if (total == 0) return;
        int capacity = (int)Math.Min(total, Math.Max(1, _options.BucketBytes / sizeof(T)));
        var bucket = Bucket<T>(capacity);
        bool send = !broadcast || Rank == 0, receive = !broadcast || Rank != 0;
        var scale = T.One / T.CreateChecked(WorldSize);
        int fill = 0;
        _segments.Clear();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            var t = Of(p, grads);
            if (t.DType != dtype) continue;
            if (!t.Device.IsCpu && send) t.GpuView.CopyToCPU(Staging(p));
            for (int offset = 0; offset < t.Count;)
            {
                int n = Math.Min(t.Count - offset, capacity - fill);
                if (send) HostSpan<T>(p, t).Slice(offset, n).CopyTo(bucket.AsSpan(fill, n));
                _segments.Add(new Segment(p, offset, fill, n));
                fill += n;
                offset += n;
                if (fill == capacity)
                {
                    Flush(bucket, fill, step, broadcast, grads, receive, scale);
                    fill = 0;
                }
            }
        }
        if (fill > 0) Flush(bucket, fill, step, broadcast, grads, receive, scale);
    }

    private void Flush<T>(T[] bucket, int count, long step, bool broadcast, bool grads, bool receive, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int datatype = typeof(T) == typeof(float) ? Mpi.MPI_FLOAT : Mpi.MPI_DOUBLE;
        int rc;
        fixed (T* data = bucket)
        {
            if (broadcast)
            {
                _watchdog.Arm(Collective.Broadcast, step, _options.SyncTimeout);
                rc = Mpi.MPI_Bcast((IntPtr)data, count, datatype, 0, Mpi.MPI_COMM_WORLD);
                _watchdog.Disarm();
                Check(rc, Collective.Broadcast, step);
                BroadcastCalls++;
            }
            else
            {
                _watchdog.Arm(Collective.Gradients, step, _options.CollectiveTimeout);
                rc = Mpi.MPI_Allreduce(InPlace, (IntPtr)data, count, datatype, Mpi.MPI_SUM, Mpi.MPI_COMM_WORLD);
                _watchdog.Disarm();
                Check(rc, Collective.Gradients, step);
                AllreduceCalls++;
                GradientAllreduceCalls++;
                BytesReduced += (long)count * sizeof(T);
            }
        }
        if (receive)
        {
            foreach (var s in _segments)
            {
                var t = Of(s.Parameter, grads);
                var source = new ReadOnlySpan<T>(bucket, s.BucketOffset, s.Count);
                var target = HostSpan<T>(s.Parameter, t).Slice(s.Offset, s.Count);
                if (broadcast) source.CopyTo(target);
                else TensorPrimitives.Multiply(source, scale, target);
                if (!t.Device.IsCpu && s.Offset + s.Count == t.Count) t.GpuView.CopyFromCPU(Staging(s.Parameter)); // its last piece
            }
        }
        _segments.Clear();
    }

    private static Tensor Of(Parameter p, bool grads) => grads ? p.Grad : p.Value;

    private Span<T> HostSpan<T>(Parameter p, Tensor t) where T : unmanaged
        => t.Device.IsCpu ? t.AsSpan<T>() : MemoryMarshal.Cast<float, T>(Staging(p).AsSpan());

    private float[] Staging(Parameter p)
    {
        if (!_staging.TryGetValue(p, out var host)) _staging[p] = host = new float[p.Value.Count];
        return host;
    }

    private T[] Bucket<T>(int capacity) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            if (_floatBucket.Length < capacity) _floatBucket = GC.AllocateUninitializedArray<float>(capacity, pinned: true);
            return (T[])(object)_floatBucket;
        }
        if (_doubleBucket.Length < capacity) _doubleBucket = GC.AllocateUninitializedArray<double>(capacity, pinned: true);
        return (T[])(object)_doubleBucket;
    }

    private void Check(int rc, Collective what, long step)
    {
        if (rc != 0) throw new InvalidOperationException($"Rank {Rank} of {WorldSize}: {Describe(what, step)} failed with MPI error {rc}.");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    internal static string Describe(Collective what, long step) => what switch
    {
        Collective.Gradients => $"the gradient all-reduce of step {step}",
        Collective.Average => $"averaging a value after step {step}",
        Collective.Broadcast => "the broadcast of rank 0's initial weights",
        Collective.Barrier => $"the barrier after step {step} (while rank 0 evaluates or saves)",
        _ => $"MPI_Finalize after step {step}",
    };

    private void OnTimeout(Collective what, long step, TimeSpan timeout)
        => Abort($"{Describe(what, step)} did not finish within {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: "
                 + "another rank died, hangs or is far behind; calling MPI_Abort (raise MpiOptions.CollectiveTimeout or MODELGEN_MPI_TIMEOUT if ranks legitimately wait longer).");

    private void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
        => Abort($"unhandled {e.ExceptionObject.GetType().Name} after step {_lastStep}: {(e.ExceptionObject as Exception)?.Message}; calling MPI_Abort so that the other ranks stop.\n{e.ExceptionObject}");
}

/// <summary>The collective a watchdog guards (named in its message).</summary>
internal enum Collective
{
    Gradients,
    Average,
    Broadcast,
    Barrier,
    Finalize,
}

/// <summary>A background thread that calls <c>onTimeout</c> when an armed collective is not disarmed before its
/// deadline. Arming allocates nothing, so a training step stays allocation-free.</summary>
internal sealed class CollectiveWatchdog : IDisposable
{
    private readonly object _gate = new();
    private readonly Action<Collective, long, TimeSpan> _onTimeout;
    private readonly Thread _thread;
    private bool _armed, _stopped;
    private Collective _what;
    private long _step, _deadline;
    private TimeSpan _timeout;

    public CollectiveWatchdog(Action<Collective, long, TimeSpan> onTimeout)
    {
        _onTimeout = onTimeout;
        _thread = new Thread(Run) { IsBackground = true, Name = "ModelGen MPI watchdog" };
        _thread.Start();
    }

    public void Arm(Collective what, long step, TimeSpan timeout)
    {
        lock (_gate)
        {
            _what = what;
            _step = step;
            _timeout = timeout;
            _deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            _armed = true;
            Monitor.Pulse(_gate);
        }
    }

    public void Disarm()
    {
        lock (_gate) _armed = false; // the thread wakes at the old deadline, finds nothing armed and sleeps again
    }

    private void Run()
    {
        Collective what;
        long step;
        TimeSpan timeout;
        lock (_gate)
        {
            while (true)
            {
                if (_stopped) return;
                if (!_armed)
                {
                    Monitor.Wait(_gate);
                    continue;
                }
                long remaining = _deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0) break;
                Monitor.Wait(_gate, TimeSpan.FromSeconds(Math.Min((double)remaining / Stopwatch.Frequency + 0.001, int.MaxValue / 1000.0)));
            }
            (what, step, timeout) = (_what, _step, _timeout);
            _armed = false;
        }
        _onTimeout(what, step, timeout);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            _armed = false;
            Monitor.Pulse(_gate);
        }
    }
}

/// <summary>Points MPI.NET's msmpi imports at the platform's MPI library (MPICH ABI) outside Windows.</summary>
internal static class NativeMpi
{
    private static readonly object s_gate = new();
    private static bool s_installed;

    public static void Install(string? library)
    {
        if (OperatingSystem.IsWindows()) return; // MS-MPI's msmpi.dll as MPI.NET expects
        lock (s_gate)
        {
            if (s_installed) return;
            string name = library ?? Environment.GetEnvironmentVariable("MODELGEN_MPI_LIBRARY") ?? "libmpich.so.12";
            if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out var handle))
                throw new DllNotFoundException($"MPI: cannot load the MPI library '{name}'. Install MPICH (Debian/Ubuntu: apt-get install mpich libmpich-dev) "
                                               + "or set MODELGEN_MPI_LIBRARY to a library with MPICH's ABI (Intel MPI, MVAPICH); OpenMPI's ABI differs.");
            try
            {
                System.Runtime.InteropServices.NativeLibrary.SetDllImportResolver(typeof(MPI.Environment).Assembly,
                    (import, _, _) => import.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase) ? handle : IntPtr.Zero);
            }
            catch (InvalidOperationException)
            {
                // the application installed its own resolver for MPI.NET: keep it
            }
            s_installed = true;
        }
    }
}
