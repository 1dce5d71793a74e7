using System.Globalization;
using System.Numerics;
using System.Runtime.Intrinsics;
using ModelGen.Cpu;
using ModelGen.IO;

namespace ModelGen.Optim;

/// <summary>Parameters that share a learning rate and a weight decay (PyTorch's param_groups).</summary>
public sealed class ParameterGroup
{
    public ParameterGroup(IEnumerable<Parameter> parameters, double? learningRate = null, double? weightDecay = null)
    {
        Parameters = parameters.ToList();
        LearningRateOverride = learningRate;
        WeightDecayOverride = weightDecay;
    }

    public IReadOnlyList<Parameter> Parameters { get; }
    internal double? LearningRateOverride { get; }
    internal double? WeightDecayOverride { get; }

    /// <summary>The learning rate the group started with (schedulers scale it).</summary>
    public double InitialLearningRate { get; internal set; }

    /// <summary>The learning rate used by the next step.</summary>
    public double LearningRate { get; set; }

    public double WeightDecay { get; set; }

    /// <summary>HuggingFace's default split: no weight decay on biases and normalisation weights, <paramref name="weightDecay"/> on the rest.</summary>
    public static IReadOnlyList<ParameterGroup> WithoutDecayOnBiasAndNorm(IEnumerable<Parameter> parameters, double weightDecay)
    {
        var all = parameters.ToList();
        static bool NoDecay(Parameter p)
        {
            var name = p.Name.ToLowerInvariant();
            return name.EndsWith("bias", StringComparison.Ordinal) || name.Contains("layernorm") || name.Contains("layer_norm")
                   || name.Contains("norm.weight") || name.EndsWith(".gamma", StringComparison.Ordinal) || name.EndsWith(".beta", StringComparison.Ordinal);
        }
        return
        [
            new ParameterGroup(all.Where(p => !NoDecay(p)), weightDecay: weightDecay),
            new ParameterGroup(all.Where(NoDecay), weightDecay: 0),
        ];
    }
}

/// <summary>Base of the optimizers: parameter groups (frozen parameters are skipped at each step), named state
/// tensors, and saving/restoring that state for checkpoints.</summary>
public abstract class Optimizer : IDisposable
{
    private readonly Dictionary<string, Tensor?[]> _state = new();
    private readonly int[] _groupOf;

    protected Optimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay)
        : this([new ParameterGroup(parameters)], learningRate, weightDecay) { }

    protected Optimizer(IEnumerable<ParameterGroup> groups, double learningRate, double weightDecay)
    {
        Groups = groups.Where(g => g.Parameters.Count > 0).ToList();
        Parameters = Groups.SelectMany(g => g.Parameters).ToList();
        if (Parameters.Count == 0) throw new ArgumentException("The optimizer got no parameters.");
        if (Parameters.Select(p => p.Name).Distinct().Count() != Parameters.Count)
            throw new ArgumentException("A parameter appears in more than one group (or twice in one).");
        foreach (var g in Groups)
        {
            g.InitialLearningRate = g.LearningRate = g.LearningRateOverride ?? learningRate;
            g.WeightDecay = g.WeightDecayOverride ?? weightDecay;
            if (!(g.LearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"Learning rate {g.LearningRate} must be ≥ 0.");
        }
        _groupOf = new int[Parameters.Count];
        int index = 0;
        for (int gi = 0; gi < Groups.Count; gi++)
            foreach (var _ in Groups[gi].Parameters) _groupOf[index++] = gi;
    }

    public IReadOnlyList<ParameterGroup> Groups { get; }
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The learning rate of the first group; setting it sets every group's.</summary>
    public double LearningRate
    {
        get => Groups[0].LearningRate;
        set
        {
            for (int i = 0; i < Groups.Count; i++) Groups[i].LearningRate = value;
        }
    }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; protected set; }

    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (!p.RequiresGrad) continue;
            var group = Groups[_groupOf[i]];
            if (p.Value.DType == DType.Float64) Update<double>(i, p, group);
            else Update<float>(i, p, group);
        }
    }

    protected abstract void Update<T>(int index, Parameter p, ParameterGroup group) where T : unmanaged, IFloatingPointIeee754<T>;

    public void ZeroGrad()
    {
        for (int i = 0; i < Parameters.Count; i++) Parameters[i].ZeroGrad();
    }

    /// <summary>The named state tensor of a parameter (e.g. Adam's "exp_avg"), created as zeros on first use.</summary>
    protected Tensor State(string slot, int index, Parameter p)
    {
        if (!_state.TryGetValue(slot, out var tensors)) _state[slot] = tensors = new Tensor?[Parameters.Count];
        return tensors[index] ??= Tensor.Zeros(p.Shape, p.Value.DType, p.Value.Device);
    }

    /// <summary>Writes the step count, the groups' learning rates and every state tensor (safetensors, atomically).</summary>
    public void SaveState(string path)
    {
        var tensors = new List<(string, Tensor)>();
        var temporaries = new List<Tensor>();
        foreach (var (slot, values) in _state.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            for (int i = 0; i < values.Length; i++)
                if (values[i] is { } t)
                {
                    var host = t.Device.IsCpu ? t : t.To(Device.Cpu);
                    if (!ReferenceEquals(host, t)) temporaries.Add(host);
                    tensors.Add(($"{slot}.{Parameters[i].Name}", host));
                }
        var metadata = new Dictionary<string, string>
        {
            ["optimizer"] = GetType().Name,
            ["step"] = StepCount.ToString(CultureInfo.InvariantCulture),
            ["learning_rates"] = string.Join(",", Groups.Select(g => g.LearningRate.ToString("R", CultureInfo.InvariantCulture))),
        };
        try { SafeTensorsWriter.Write(path, tensors, metadata); }
        finally { foreach (var t in temporaries) t.Dispose(); }
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote, for the same parameters.</summary>
    public void LoadState(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        if (file.Metadata.GetValueOrDefault("optimizer") != GetType().Name)
            throw new InvalidDataException($"{path}: optimizer state of {file.Metadata.GetValueOrDefault("optimizer") ?? "unknown"}, not {GetType().Name}.");
        StepCount = long.Parse(file.Metadata["step"], CultureInfo.InvariantCulture);
        var rates = file.Metadata["learning_rates"].Split(',');
        if (rates.Length != Groups.Count) throw new InvalidDataException($"{path}: {rates.Length} parameter groups, expected {Groups.Count}.");
        for (int g = 0; g < Groups.Count; g++) Groups[g].LearningRate = double.Parse(rates[g], CultureInfo.InvariantCulture);
        foreach (var info in file.Tensors)
        {
            int dot = info.Name.IndexOf('.');
            var slot = info.Name[..dot];
            var name = info.Name[(dot + 1)..];
            int index = Parameters.ToList().FindIndex(p => p.Name == name);
            if (index < 0) throw new InvalidDataException($"{path}: state for unknown parameter '{name}'.");
            var t = State(slot, index, Parameters[index]);
            if (t.DType == DType.Float64) t.CopyFrom<double>(file.ReadDoubles(info.Name));
            else t.CopyFrom<float>(file.ReadFloats(info.Name));
        }
    }

    public virtual void Dispose()
    {
        foreach (var tensors in _state.Values)
            foreach (var t in tensors) t?.Dispose();
    }

    /// <summary>Optimizer state (momentum, moments) flushes values below the smallest normal float to zero: .NET
    /// cannot switch the CPU to flush-to-zero, and denormal moments slow every later step several-fold.</summary>
    internal static T Flush<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
        => T.Abs(x) < SmallestNormal<T>() ? T.Zero : x;

    internal static T SmallestNormal<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? T.CreateTruncating(1.17549435e-38f) : T.CreateTruncating(2.2250738585072014e-308);

    internal static Vector512<T> Flush<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(SmallestNormal<T>())), Vector512<T>.Zero, x);

    protected static void RunParallel<TBody>(int n, ref TBody body) where TBody : struct, IRangeBody
    {
        KernelStats.Record("optimizer-update");
        if (n < 65_536) body.Execute(0, n);
        else CpuParallel.For(n, 32_768, ref body);
    }
}
