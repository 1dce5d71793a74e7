namespace ModelGen;

/// <summary>A trainable tensor with its gradient, named like PyTorch's state dict (<c>fc1.weight</c>) — or a buffer:
/// state that is saved and loaded with the model but never trained (BatchNorm's <c>bn.running_mean</c>).</summary>
public sealed class Parameter : IDisposable
{
    private bool _requiresGrad;

    internal Parameter(string name, Tensor value, bool isBuffer = false)
    {
        Name = name;
        Value = value;
        IsBuffer = isBuffer;
        _requiresGrad = !isBuffer;
        // a buffer gets no gradient: a one-element placeholder keeps Grad non-null without allocating its size
        Grad = Tensor.Zeros(isBuffer ? Shape.Scalar : value.Shape, value.DType, value.Device);
    }

    public string Name { get; }
    public Tensor Value { get; }

    /// <summary>Accumulated gradient: backward passes add to it (+=); <see cref="Module.ZeroGrad"/> clears it.</summary>
    public Tensor Grad { get; }

    /// <summary>A non-trainable buffer (running statistics): listed in <see cref="Module.Buffers"/>, not in
    /// <see cref="Module.Parameters"/>, so optimizers never see it; saved and loaded with the parameters.</summary>
    public bool IsBuffer { get; }

    /// <summary>False freezes the parameter: no gradient is computed for it and optimizers skip it. Always false for a buffer.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (value && IsBuffer) throw new InvalidOperationException($"'{Name}' is a buffer (state updated by the forward pass), not a trainable parameter.");
            _requiresGrad = value;
        }
    }

    public Shape Shape => Value.Shape;

    public void Dispose()
    {
        Value.Dispose();
        Grad.Dispose();
    }

    public override string ToString() => $"{Name} {Shape}{(IsBuffer ? " (buffer)" : RequiresGrad ? "" : " (frozen)")}";
}
