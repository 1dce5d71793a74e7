namespace ModelGen.Cpu;

/// <summary>Counts kernel launches by name when enabled (tests use it to check that the fused plan is what runs).</summary>
public static class KernelStats
{
    private static Dictionary<string, int>? _counts;

    public static bool Enabled => _counts is not null;

    public static void Start() => _counts = new Dictionary<string, int>();

    public static IReadOnlyDictionary<string, int> Stop()
    {
        var result = _counts ?? new Dictionary<string, int>();
        _counts = null;
        return result;
    }

    public static void Record(string kernel)
    {
        var counts = _counts;
        if (counts is null) return;
        lock (counts) counts[kernel] = counts.GetValueOrDefault(kernel) + 1;
    }
}
