using System.Collections;

namespace ModelGen;

/// <summary>Something a [Model] can hold as a [Layer]: it creates its parameters when the model is bound to a device.</summary>
public interface ILayer
{
    void Bind(ModuleBinder binder, string prefix);
}

/// <summary>y = x·Wᵀ + b, like torch.nn.Linear: weight [out, in], bias [out], both initialised from
/// U(−1/√in, 1/√in) (PyTorch's kaiming_uniform with a = √5).</summary>
public sealed class Linear : ILayer
{
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear({inFeatures}, {outFeatures}): sizes must be positive.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        HasBias = bias;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public bool HasBias { get; }
    public string Name { get; private set; } = "linear";

    public Parameter Weight => _weight ?? throw Unbound();
    public Parameter? Bias => _bias;

    private Parameter? _weight, _bias;

    /// <summary>Applies the layer inside a [Model]'s Forward (compiled by the generator).</summary>
    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix)
    {
        Name = prefix.TrimEnd('.');
        double bound = 1.0 / Math.Sqrt(InFeatures);
        _weight = binder.Parameter(prefix + "weight", new Shape(OutFeatures, InFeatures), bound);
        if (HasBias) _bias = binder.Parameter(prefix + "bias", new Shape(OutFeatures), bound);
    }

    private InvalidOperationException Unbound() => new($"Layer {Name} has no parameters yet: its model is not bound to a device.");

    public override string ToString() => $"Linear(in_features={InFeatures}, out_features={OutFeatures}, bias={HasBias})";
}

/// <summary>Inverted dropout like torch.nn.Dropout: zeroes elements with probability p in training and scales the
/// rest by 1/(1−p); the identity in evaluation. Masks are drawn from the model's seed and step counter.</summary>
public sealed class Dropout : ILayer
{
    public Dropout(double p = 0.5)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout probability {p} is not in [0, 1).");
        P = p;
    }

    public double P { get; }
    public string Name { get; private set; } = "dropout";

    public Tensor Apply(Tensor x) => throw Dsl.OutsideForward($"{Name}.Apply");

    void ILayer.Bind(ModuleBinder binder, string prefix) => Name = prefix.TrimEnd('.');

    public override string ToString() => $"Dropout(p={P})";
}

/// <summary>A list of identical blocks applied in a <c>foreach</c> inside Forward; its length may come from a config at
/// run time. Parameters are named <c>blocks.0.fc.weight</c>, like torch.nn.ModuleList.</summary>
public sealed class LayerList<T> : ILayer, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items;

    public LayerList(IEnumerable<T> items) => _items = items.ToList();

    public static LayerList<T> Create(int count, Func<int, T> create) => new(Enumerable.Range(0, count).Select(create));

    public int Count => _items.Count;
    public T this[int index] => _items[index];
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    void ILayer.Bind(ModuleBinder binder, string prefix)
    {
        for (int i = 0; i < _items.Count; i++) ((ILayer)_items[i]).Bind(binder, $"{prefix}{i}.");
    }
}

internal static class Dsl
{
    public static InvalidOperationException OutsideForward(string what) => new(
        $"{what} describes a step of a [Model]'s Forward and is compiled by the ModelGen generator; it does not run by itself. " +
        "Call the model's generated Run(...), CrossEntropy(...) or Mse(...) instead.");
}
