using System.ComponentModel;
using ModelGen.IO;

namespace ModelGen;

/// <summary>
/// Base of every [Model] (the generator makes the partial class derive from it). Holds what all models share: the
/// device, dtype and seed, the parameter list, train/eval mode, ZeroGrad, Save/Load and deterministic Dispose. The static
/// functions (Relu, Softmax, ...) are the DSL a Forward method is written in; the generator compiles them.
/// </summary>
public abstract partial class Module : ILayer, IDisposable
{
    private List<Parameter>? _parameters;
    private List<Parameter> _buffers = [];
    private bool _disposed;
    private Device? _device;

    /// <summary>An unbound model: used as a layer of another model, or bound to <see cref="Device.Default"/> on first use.</summary>
    protected Module() { }

    /// <param name="dtype">Float32 or Float64: what the model computes in. The other dtypes are storage types of tensors
    /// (<see cref="ModelGen.DType.Int32"/> token ids, <see cref="ModelGen.DType.Float16"/> checkpoints), which
    /// <see cref="Load"/> converts.</param>
    protected Module(Device device, int seed = 0, DType dtype = DType.Float32)
    {
        if (dtype is not (DType.Float32 or DType.Float64))
            throw new ArgumentException(
                $"{GetType().Name} cannot compute in {dtype}: models compute in Float32 or Float64. {dtype} is a storage dtype of " +
                "tensors (checkpoints in Float16/BFloat16 load into a Float32 model, converted).", nameof(dtype));
        _device = device;
        Seed = seed;
        DType = dtype;
    }

    public Device Device => _device ?? Device.Default;
    public DType DType { get; private set; } = DType.Float32;
    /// <summary>Seeds the parameter initialisation and the dropout masks. The Trainer offsets it by the rank while it
    /// trains data-parallel, so that ranks draw different dropout masks (the model is bound by then).</summary>
    public int Seed { get; internal set; }
    public bool Training { get; private set; } = true;

    /// <summary>The dotted name of this model inside its parent ("" for the root).</summary>
    public string Name { get; private set; } = "";

    /// <summary>Activation plans built so far: one per new input shape (batch size, padded sequence length). After the
    /// first batches of each shape it stops growing: nothing is built or allocated per step.</summary>
    public int PlansBuilt { get; protected set; }

    /// <summary>Training steps run so far (advances dropout masks).</summary>
    public ulong Step { get; set; }

    /// <summary>All parameters in declaration order, named like PyTorch's state dict.</summary>
    public IReadOnlyList<Parameter> Parameters
    {
        get
        {
            EnsureBound();
            return _parameters!;
        }
    }

    public Parameter Parameter(string name)
        => Parameters.FirstOrDefault(p => p.Name == name)
           ?? throw new KeyNotFoundException($"No parameter '{name}'. Parameters: {string.Join(", ", Parameters.Select(p => p.Name))}.");

    /// <summary>Non-trainable state saved with the model (BatchNorm's running_mean, running_var, num_batches_tracked),
    /// named like PyTorch's state dict. Optimizers never see these: they are not in <see cref="Parameters"/>.</summary>
    public IReadOnlyList<Parameter> Buffers
    {
        get
        {
            EnsureBound();
            return _buffers;
        }
    }

    public Parameter Buffer(string name)
        => Buffers.FirstOrDefault(p => p.Name == name)
           ?? throw new KeyNotFoundException($"No buffer '{name}'. Buffers: {string.Join(", ", Buffers.Select(p => p.Name))}.");

    /// <summary>What Save writes and Load reads: the parameters, then the buffers (PyTorch's state_dict).</summary>
    private IEnumerable<Parameter> StateTensors => Parameters.Concat(Buffers);

    public long ParameterCount => Parameters.Sum(p => (long)p.Value.Count);

    public void Train(bool training = true) => SetTraining(training);
    public void Eval() => SetTraining(false);

    private void SetTraining(bool training)
    {
        Training = training;
        foreach (var child in Children()) child.SetTraining(training);
    }

    /// <summary>Clears every parameter gradient (PyTorch's zero_grad with set_to_none=False).</summary>
    public void ZeroGrad()
    {
        var parameters = Parameters;
        for (int i = 0; i < parameters.Count; i++) parameters[i].ZeroGrad();
    }

    /// <summary>Writes the parameters and buffers as safetensors (atomically: a failed save leaves the previous file intact).</summary>
    public void Save(string path)
    {
        ThrowIfDisposed();
        var state = StateTensors.ToList();
        var host = state.Select(p => (p.Name, Value: p.Value.Device.IsCpu ? p.Value : p.Value.To(Device.Cpu))).ToList();
        try
        {
            SafeTensorsWriter.Write(path, host.Select(h => (h.Name, h.Value)),
                new Dictionary<string, string> { ["format"] = "pt", ["modelgen.model"] = GetType().Name });
        }
        finally
        {
            for (int i = 0; i < host.Count; i++)
                if (!ReferenceEquals(host[i].Value, state[i].Value)) host[i].Value.Dispose();
        }
    }

    /// <summary>Reads parameters and buffers saved by <see cref="Save"/> (or by PyTorch's safetensors) into this model.
    /// As in PyTorch, a missing <c>num_batches_tracked</c> (older checkpoints) keeps its current value.</summary>
    public void Load(string path)
    {
        ThrowIfDisposed();
        using var file = SafeTensorsFile.Open(path);
        var state = StateTensors.Where(p => file.Contains(p.Name) || !(p.IsBuffer && p.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal))).ToList();
        var missing = state.Where(p => !file.Contains(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{path}: missing tensors {string.Join(", ", missing)} for {GetType().Name}.");
        foreach (var p in state)
        {
            var info = file.Tensors.First(t => t.Name == p.Name);
            if (!info.Shape.AsSpan().SequenceEqual(p.Shape.Dims))
                throw new InvalidDataException($"{path}: tensor '{p.Name}' has shape {Shape.Format(info.Shape)} but {GetType().Name} expects {p.Shape}.");
            if (!p.Value.Device.IsCpu) p.Value.CopyFrom<float>(file.ReadFloats(p.Name));
            else if (p.Value.DType == DType.Float64) file.ReadInto(p.Name, p.Value.AsSpan<double>());
            else file.ReadInto(p.Name, p.Value.AsSpan<float>());
        }
    }

    /// <summary>Binds the model tree to its device: creates parameters (idempotent).</summary>
    protected void EnsureBound()
    {
        ThrowIfDisposed();
        if (_parameters is not null) return;
        var binder = new ModuleBinder(Device, DType, Seed);
        BindTree(binder, "");
    }

    void ILayer.Bind(ModuleBinder binder, string prefix) => BindTree(binder, prefix);

    private void BindTree(ModuleBinder binder, string prefix)
    {
        if (_parameters is not null)
            throw new InvalidOperationException($"Model {GetType().Name} is already bound; a model instance can be a layer of only one parent.");
        _device = binder.Device;
        DType = binder.DType;
        Name = prefix.TrimEnd('.');
        int before = binder.Parameters.Count, buffersBefore = binder.Buffers.Count;
        BindLayers(binder, prefix);
        _buffers = binder.Buffers.GetRange(buffersBefore, binder.Buffers.Count - buffersBefore);
        _parameters = binder.Parameters.GetRange(before, binder.Parameters.Count - before);
        OnBound();
    }

    /// <summary>Generated: binds each [Layer] in declaration order.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected abstract void BindLayers(ModuleBinder binder, string prefix);

    /// <summary>Generated: checks layer sizes against each other once parameters exist.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void OnBound() { }

    /// <summary>This model and every model nested in it, depth first (PyTorch's <c>modules()</c>).</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var child in Children())
            foreach (var m in child.Modules()) yield return m;
    }

    /// <summary>Generated: the nested models (for train/eval and disposal).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual IEnumerable<Module> Children() => [];

    /// <summary>Generated: frees the activation plans.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void DisposePlans() { }

    protected void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(GetType().Name);
    }

    public void Dispose()
    {
        if (_disposed) return;
        DisposePlans();
        foreach (var child in Children()) child.Dispose();
        if (_parameters is not null)
            foreach (var p in _parameters.Concat(_buffers)) p.Dispose(); // shared with the parent's list; Dispose is idempotent
        _disposed = true;
        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"{GetType().Name} ({(_parameters is null ? "unbound" : $"{ParameterCount:N0} parameters")})";

    // ---------------- the DSL of Forward ----------------
    protected static Tensor Relu(Tensor x) => throw Dsl.OutsideForward(nameof(Relu));
    protected static Tensor Tanh(Tensor x) => throw Dsl.OutsideForward(nameof(Tanh));
    protected static Tensor Sigmoid(Tensor x) => throw Dsl.OutsideForward(nameof(Sigmoid));

    /// <summary>GELU: exact (erf) by default, the tanh approximation (GPT-2) when asked.</summary>
    protected static Tensor Gelu(Tensor x, bool tanhApproximation = false) => throw Dsl.OutsideForward(nameof(Gelu));
    protected static Tensor Softmax(Tensor x) => throw Dsl.OutsideForward(nameof(Softmax));
    protected static Tensor LogSoftmax(Tensor x) => throw Dsl.OutsideForward(nameof(LogSoftmax));
    protected static Tensor Sum(Tensor x) => throw Dsl.OutsideForward(nameof(Sum));
    protected static Tensor Mean(Tensor x) => throw Dsl.OutsideForward(nameof(Mean));

    /// <summary>Flattens all dimensions but the first (batch): [B, ...] → [B, N].</summary>
    protected static Tensor Flatten(Tensor x) => throw Dsl.OutsideForward(nameof(Flatten));

    /// <summary>Multi-head self-attention of [batch, seq, hidden] query, key and value with a [batch, seq] padding mask
    /// (1 = attend, 0 = padding): softmax(QKᵀ/√d + (1 − mask)·(−10000))·V per head.</summary>
    protected static Tensor Attention(Tensor query, Tensor key, Tensor value, Tensor mask, int heads) => throw Dsl.OutsideForward(nameof(Attention));

    /// <summary>Attention with dropout on its probabilities (HuggingFace's attention_probs_dropout_prob): in training the
    /// probabilities are dropped by <paramref name="probsDropout"/>, a [Layer] Dropout field, before they weigh the values.</summary>
    protected static Tensor Attention(Tensor query, Tensor key, Tensor value, Tensor mask, int heads, Dropout probsDropout) => throw Dsl.OutsideForward(nameof(Attention));

    /// <summary>The first position of each sequence: [batch, seq, hidden] → [batch, hidden].</summary>
    protected static Tensor FirstToken(Tensor x) => throw Dsl.OutsideForward(nameof(FirstToken));

    /// <summary>Mean squared error, a scalar.</summary>
    protected static Tensor MseLoss(Tensor prediction, Tensor target) => throw Dsl.OutsideForward(nameof(MseLoss));
}
