namespace ModelGen;

/// <summary>A trainable tensor with its gradient, named like PyTorch's state dict (<c>fc1.weight</c>).</summary>
public sealed class Parameter : IDisposable
{
    internal Parameter(string name, Tensor value)
    {
        Name = name;
        Value = value;
        Grad = Tensor.Zeros(value.Shape, value.DType, value.Device);
    }

    public string Name { get; }
    public Tensor Value { get; }

    /// <summary>Accumulated gradient: backward passes add to it (+=); <see cref="Module.ZeroGrad"/> clears it.</summary>
    public Tensor Grad { get; }

    /// <summary>False freezes the parameter: no gradient is computed for it and optimizers skip it.</summary>
    public bool RequiresGrad { get; set; } = true;

    public Shape Shape => Value.Shape;

    public void Dispose()
    {
        Value.Dispose();
        Grad.Dispose();
    }

    public override string ToString() => $"{Name} {Shape}{(RequiresGrad ? "" : " (frozen)")}";
}
