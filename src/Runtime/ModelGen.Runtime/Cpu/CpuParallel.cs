using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace ModelGen.Cpu;

/// <summary>A body run over index ranges by <see cref="CpuParallel.For{TBody}"/>.</summary>
public interface IRangeBody
{
    void Execute(int start, int end);
}

/// <summary>
/// The CPU engine's thread pool: dedicated workers that run a struct body over index ranges without allocating
/// (no closures, tasks or boxing), so a training step stays allocation-free. The body is passed by reference and
/// invoked through a function pointer instantiated for its type. Between jobs a worker spins for a short while
/// (<c>MODELGEN_SPIN_US</c>, 100 µs by default) before it sleeps on its event: a transformer on a few tokens runs
/// hundreds of small parallel kernels per second, and waking a sleeping thread costs tens of microseconds each time.
/// </summary>
public static unsafe class CpuParallel
{
    private static readonly object StartLock = new();
    private static Thread[]? _workers;
    private static AutoResetEvent[]? _wake;
    private static int _busy;
    private static int _generation;
    private static int[]? _sleeping;
    private static readonly long SpinTicks = (long)(System.Diagnostics.Stopwatch.Frequency * ReadSpinMicroseconds() / 1e6);

    private static void* _body;
    private static delegate*<void*, int, int, void> _invoke;
    private static int _count;
    private static int _chunkSize;
    private static int _chunks;
    private static int _nextChunk;
    private static int _pendingWorkers;
    private static ExceptionDispatchInfo? _error;

    /// <summary>Threads used by the CPU engine: <c>MODELGEN_THREADS</c>, else the processor count.</summary>
    public static int ThreadCount { get; } = ReadThreadCount();

    private static double ReadSpinMicroseconds()
        => double.TryParse(Environment.GetEnvironmentVariable("MODELGEN_SPIN_US"), System.Globalization.CultureInfo.InvariantCulture, out var us) && us >= 0 ? us : 100;

    private static int ReadThreadCount()
    {
        var env = Environment.GetEnvironmentVariable("MODELGEN_THREADS");
        return int.TryParse(env, out var n) && n > 0 ? n : Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>Runs <paramref name="body"/> over [0, count) split into chunks of at least <paramref name="minChunk"/>
    /// indices, on all engine threads (the caller included). Runs inline when there is too little work,
    /// one thread, or when called from inside another parallel region.</summary>
    public static void For<TBody>(int count, int minChunk, ref TBody body) where TBody : struct, IRangeBody
    {
        if (count <= 0) return;
        int threads = ThreadCount;
        if (threads == 1 || count <= minChunk || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            body.Execute(0, count);
            return;
        }
        try
        {
            EnsureWorkers(threads);
            int chunks = Math.Min(threads * 4, (count + minChunk - 1) / minChunk);
            chunks = Math.Max(chunks, 1);
            _chunkSize = (count + chunks - 1) / chunks;
            _chunks = (count + _chunkSize - 1) / _chunkSize;
            _count = count;
            _body = Unsafe.AsPointer(ref body);
            _invoke = &Invoke<TBody>;
            _nextChunk = 0;
            _error = null;
            Volatile.Write(ref _pendingWorkers, threads - 1);
            // publish the job (a full fence), then wake only the workers that went to sleep; a worker announces its
            // sleep with a full fence too and re-reads the generation after it, so one of the two sees the other
            Interlocked.Increment(ref _generation);
            for (int i = 0; i < _wake!.Length; i++)
                if (Volatile.Read(ref _sleeping![i]) != 0) _wake[i].Set();
            RunChunks();
            var spin = new SpinWait();
            while (Volatile.Read(ref _pendingWorkers) != 0) spin.SpinOnce(sleep1Threshold: -1);
            _body = null;
            _error?.Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Runs <paramref name="body"/> once per part index in [0, parts): one part per engine thread.</summary>
    public static void ForParts<TBody>(int parts, ref TBody body) where TBody : struct, IRangeBody => For(parts, 1, ref body);

    private static void Invoke<TBody>(void* body, int start, int end) where TBody : struct, IRangeBody
        => Unsafe.AsRef<TBody>(body).Execute(start, end);

    private static void RunChunks()
    {
        while (true)
        {
            int chunk = Interlocked.Increment(ref _nextChunk) - 1;
            if (chunk >= _chunks) return;
            int start = chunk * _chunkSize;
            int end = Math.Min(_count, start + _chunkSize);
            try
            {
                _invoke(_body, start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
        }
    }

    private static void EnsureWorkers(int threads)
    {
        if (_workers is not null) return;
        lock (StartLock)
        {
            if (_workers is not null) return;
            _wake = Enumerable.Range(0, threads - 1).Select(_ => new AutoResetEvent(false)).ToArray();
            _sleeping = new int[threads - 1];
            var workers = new Thread[threads - 1];
            for (int i = 0; i < workers.Length; i++)
            {
                int index = i, generation = Volatile.Read(ref _generation);
                workers[i] = new Thread(() => WorkerLoop(index, generation)) { IsBackground = true, Name = $"ModelGen CPU worker {i + 1}" };
                workers[i].Start();
            }
            _workers = workers;
        }
    }

    // seen: the last generation this worker ran (read when it was created, before the first job is published)
    private static void WorkerLoop(int index, int seen)
    {
        var wake = _wake![index];
        while (true)
        {
            long spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil)
                {
                    Thread.SpinWait(8);
                    continue;
                }
                Interlocked.Exchange(ref _sleeping![index], 1);
                if (Volatile.Read(ref _generation) == seen) wake.WaitOne();
                Interlocked.Exchange(ref _sleeping[index], 0);
                spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            }
            seen = Volatile.Read(ref _generation);
            RunChunks();
            Interlocked.Decrement(ref _pendingWorkers);
        }
    }
}
