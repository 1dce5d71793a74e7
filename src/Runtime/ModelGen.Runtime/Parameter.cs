namespace ModelGen;

/// <summary>A trainable tensor with its gradient, named like PyTorch's state dict (<c>fc1.weight</c>) — or a buffer:
/// state that is saved and loaded with the model but never trained (BatchNorm's <c>bn.running_mean</c>).</summary>
public sealed class Parameter : IDisposable
{
    private bool _requiresGrad;

    public Parameter(string name, Tensor value, bool isBuffer = false)
    {
        Name = name;
        Value = value;
        IsBuffer = isBuffer;
        _requiresGrad = !isBuffer;
        // a buffer gets no gradient: a one-element placeholder keeps Grad non-null without allocating its size
        _grad = Tensor.Zeros(isBuffer ? Shape.Scalar : value.Shape, value.DType, value.Device);
    }

    private readonly Tensor _grad;
    private bool _gradPendingZero;

    public string Name { get; }
    public Tensor Value { get; }

    /// <summary>Accumulated gradient: backward passes add to it (+=); <see cref="Module.ZeroGrad"/> clears it.</summary>
    public Tensor Grad
    {
        get
        {
            if (_gradPendingZero)
            {
                Ops.Fill(_grad, 0);
                _gradPendingZero = false;
            }
            return _grad;
        }
    }

    /// <summary>Clears the gradient. Lazily: the next backward pass writes it instead of adding to it (no memset and
    /// no read of the old values), and anyone reading <see cref="Grad"/> before that sees zeros.</summary>
    public void ZeroGrad() => _gradPendingZero = true;

    /// <summary>The gradient tensor for a kernel that writes every element of it: <paramref name="accumulate"/> is
    /// false when it was cleared since the last backward (the kernel overwrites), true otherwise (the kernel adds).</summary>
    internal Tensor GradForWrite(out bool accumulate)
    {
        accumulate = !_gradPendingZero;
        _gradPendingZero = false;
        return _grad;
    }

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

    /// <summary>A layer's parameter used as a tensor inside Forward (weight tying: <c>MatMul(h, Transpose(wte.Weight, 0, 1))</c>).</summary>
    public static implicit operator Tensor(Parameter parameter) => parameter.Value;

    public void Dispose()
    {
        Value.Dispose();
        _grad.Dispose();
    }

    public override string ToString() => $"{Name} {Shape}{(IsBuffer ? " (buffer)" : RequiresGrad ? "" : " (frozen)")}";
}
