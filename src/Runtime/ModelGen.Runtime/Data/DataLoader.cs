namespace ModelGen.Data;

/// <summary>Fills reusable batch buffers from examples (the DataLoader's collate_fn).</summary>
public interface IBatchCollator<T, TBatch> where TBatch : class
{
    /// <summary>Buffers for up to <paramref name="capacity"/> examples, created once and reused.</summary>
    TBatch Create(int capacity);

    /// <summary>Writes the examples of one batch into the buffers.</summary>
    void Collate(IReadOnlyList<T> data, ReadOnlySpan<int> indices, TBatch batch);
}

/// <summary>
/// Batches a dataset like PyTorch's DataLoader: batch size, seeded shuffle (a new order each epoch from seed and epoch),
/// drop_last, collation into reusable buffers, and a background thread that prepares the next batch while the current
/// one trains. Each example appears exactly once per epoch; prefetching never changes the batches.
/// </summary>
public sealed class DataLoader<T, TBatch> where TBatch : class
{
    private readonly IReadOnlyList<T> _data;
    private readonly IBatchCollator<T, TBatch> _collator;

    public DataLoader(IReadOnlyList<T> data, int batchSize, IBatchCollator<T, TBatch> collator, bool shuffle = false,
        int seed = 0, bool dropLast = false, bool prefetch = true, int rank = 0, int worldSize = 1, Func<T, int>? groupByLength = null)
    {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), $"Rank {rank} of {worldSize} is invalid.");
        Rank = rank;
        WorldSize = worldSize;
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"Batch size {batchSize} must be positive.");
        _data = data;
        _collator = collator;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        Prefetch = prefetch;
        if (groupByLength is not null)
        {
            _lengths = new int[data.Count];
            for (int i = 0; i < _lengths.Length; i++) _lengths[i] = groupByLength(data[i]);
        }
    }

    private readonly int[]? _lengths;

    /// <summary>Whether batches hold examples of similar length (HuggingFace's <c>group_by_length</c>).</summary>
    public bool GroupByLength => _lengths is not null;

    public int BatchSize { get; }
    public bool Shuffle { get; }
    public int Seed { get; }
    public bool DropLast { get; }
    public bool Prefetch { get; }
    public int ExampleCount => _data.Count;

    /// <summary>This process's rank and the number of ranks: each rank reads a disjoint shard of every epoch's order.</summary>
    public int Rank { get; }
    public int WorldSize { get; }

    /// <summary>Examples this rank reads per epoch (PyTorch's DistributedSampler: the order is cut into WorldSize equal
    /// shards, the last few examples of an uneven epoch are dropped so that every rank takes the same number of steps).</summary>
    public int ShardSize => _data.Count / WorldSize;

    /// <summary>Batches per epoch.</summary>
    public int Count => DropLast ? ShardSize / BatchSize : (ShardSize + BatchSize - 1) / BatchSize;

    /// <summary>The example order of an epoch for this rank: the same seeded permutation on every rank, strided by rank.</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, _data.Count).ToArray();
        if (Shuffle) new Random(unchecked(Seed * 1_000_003 + epoch) & int.MaxValue).Shuffle(order); // not HashCode: it is randomised per process
        if (_lengths is not null) GroupLengths(order, _lengths, BatchSize * WorldSize);
        if (WorldSize == 1) return order;
        return Enumerable.Range(0, ShardSize).Select(i => order[i * WorldSize + Rank]).ToArray();
    }

    /// <summary>The batches of one epoch as (buffers, example count, example indices). A yielded batch stays valid until
    /// the next one is requested.</summary>
    public IEnumerable<(TBatch Batch, int Count, int[] Indices)> Epoch(int epoch)
    {
        var order = Order(epoch);
        int batches = Count;
        // every batch's indices are cut once per epoch, so that a step allocates nothing
        var slices = new int[batches][];
        for (int b = 0; b < batches; b++) slices[b] = Slice(order, b);
        if (!Prefetch)
        {
            var buffer = _collator.Create(BatchSize);
            for (int b = 0; b < batches; b++)
            {
                var indices = slices[b];
                _collator.Collate(_data, indices, buffer);
                yield return (buffer, indices.Length, indices);
            }
            yield break;
        }

        // two buffers circulate between the collating thread and the training loop: free → collated → ready → used → free
        var free = new Handoff<TBatch>(3);
        var ready = new Handoff<(TBatch, int[])>(1);
        for (int i = 0; i < 2; i++) free.Add(_collator.Create(BatchSize));
        var producer = Task.Run(() =>
        {
            try
            {
                for (int b = 0; b < batches; b++)
                {
                    if (!free.TryTake(out var buffer)) return; // cancelled
                    var indices = slices[b];
                    _collator.Collate(_data, indices, buffer);
                    if (!ready.Add((buffer, indices))) return;
                }
            }
            finally { ready.Complete(); }
        });
        TBatch? previous = null;
        try
        {
            while (ready.TryTake(out var item))
            {
                var (buffer, indices) = item;
                if (previous is not null) free.Add(previous);
                previous = buffer;
                yield return (buffer, indices.Length, indices);
            }
            producer.GetAwaiter().GetResult(); // surface a collation error
        }
        finally
        {
            free.Cancel();
            ready.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    /// <summary>HuggingFace's LengthGroupedSampler: the (shuffled) order is cut into megabatches of 50 batches, each
    /// sorted by length, longest first, so that a batch pads little while batches stay shuffled; the longest example of
    /// the epoch moves to the front, so that a batch too large for memory fails at once rather than late.</summary>
    internal static void GroupLengths(int[] order, int[] lengths, int batchSize)
    {
        int mega = Math.Max(1, 50 * batchSize);
        for (int start = 0; start < order.Length; start += mega)
        {
            var part = order.AsSpan(start, Math.Min(mega, order.Length - start));
            var sorted = part.ToArray().OrderByDescending(i => lengths[i]).ToArray(); // stable: ties keep the shuffled order
            sorted.CopyTo(part);
        }
        int longest = 0;
        for (int start = 0; start < order.Length; start += mega)
            if (lengths[order[start]] > lengths[order[longest]]) longest = start;
        (order[0], order[longest]) = (order[longest], order[0]);
    }

    private int[] Slice(int[] order, int batch)
    {
        int start = batch * BatchSize;
        int count = Math.Min(BatchSize, order.Length - start);
        return order.AsSpan(start, count).ToArray();
    }
}

/// <summary>A bounded hand-off between the collating thread and the training loop that allocates nothing per item
/// (BlockingCollection with a cancellation token creates a linked token source on every Take and Add).</summary>
internal sealed class Handoff<T>(int capacity)
{
    private readonly Queue<T> _items = new(capacity);
    private bool _completed, _cancelled;

    /// <summary>Waits for room; false when cancelled.</summary>
    public bool Add(T item)
    {
        lock (_items)
        {
            while (_items.Count >= capacity && !_cancelled) Monitor.Wait(_items);
            if (_cancelled) return false;
            _items.Enqueue(item);
            Monitor.PulseAll(_items);
            return true;
        }
    }

    /// <summary>Waits for an item; false once completed and drained, or cancelled.</summary>
    public bool TryTake(out T item)
    {
        lock (_items)
        {
            while (_items.Count == 0 && !_completed && !_cancelled) Monitor.Wait(_items);
            if (_cancelled || _items.Count == 0)
            {
                item = default!;
                return false;
            }
            item = _items.Dequeue();
            Monitor.PulseAll(_items);
            return true;
        }
    }

    public void Complete()
    {
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }

    public void Cancel()
    {
        lock (_items)
        {
            _cancelled = true;
            Monitor.PulseAll(_items);
        }
    }
}
