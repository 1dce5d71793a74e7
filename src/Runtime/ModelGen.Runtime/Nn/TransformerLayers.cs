namespace ModelGen;

/// <summary>A lookup table like torch.nn.Embedding: weight [count, dim] initialised from N(0, 1) (the padding row
/// zero). Token ids are passed as a float tensor (exact for ids below 2^24).</summary>
public sealed class Embedding : ILayer
{
    public Embedding(int count, int dim, int? paddingIndex = null)
    {
        if (count <= 0 || dim <= 0) throw new ArgumentOutOfRangeException(nameof(count), $"Embedding({count}, {dim}): sizes must be positive.");
        if (paddingIndex is int p && (p < 0 || p >= count)) throw new ArgumentOutOfRangeException(nameof(paddingIndex), $"Padding index {p} is outside [0, {count}).");
        Count = count;
        Dim = dim;
        PaddingIndex = paddingIndex;
    }

    public int Count { get; }
    public int Dim { get; }
    public int? PaddingIndex { get; }
    public string Name { get; private set; } = "embedding";
    public Parameter Weight => _weight ?? throw new InvalidOperationException($"Layer {Name} is not bound to a device yet.");
    private Parameter? _weight;

    public Tensor Apply(Tensor ids) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix)
    {
        Name = prefix.TrimEnd('.');
        _weight = binder.NormalParameter(prefix + "weight", new Shape(Count, Dim), 1.0, zeroRow: PaddingIndex);
    }

    public override string ToString() => $"Embedding({Count}, {Dim}{(PaddingIndex is int p ? $", padding_idx={p}" : "")})";
}

/// <summary>Layer normalisation over the last dimension, like torch.nn.LayerNorm (weight ones, bias zeros).</summary>
public sealed class LayerNorm : ILayer
{
    public LayerNorm(int dim, double eps = 1e-5)
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), $"LayerNorm({dim}): size must be positive.");
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"LayerNorm eps {eps} must be positive.");
        Dim = dim;
        Eps = eps;
    }

    public int Dim { get; }
    public double Eps { get; }
    public string Name { get; private set; } = "layer_norm";
    public Parameter Weight => _weight ?? throw new InvalidOperationException($"Layer {Name} is not bound to a device yet.");
    public Parameter Bias => _bias ?? throw new InvalidOperationException($"Layer {Name} is not bound to a device yet.");
    private Parameter? _weight, _bias;

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix)
    {
        Name = prefix.TrimEnd('.');
        _weight = binder.ConstantParameter(prefix + "weight", new Shape(Dim), 1.0);
        _bias = binder.ConstantParameter(prefix + "bias", new Shape(Dim), 0.0);
    }

    public override string ToString() => $"LayerNorm({Dim}, eps={Eps})";
}
