using ModelGen.Cpu;

namespace ModelGen;

/// <summary>Creates the parameters of a model tree on one device, in declaration order, from one seed.</summary>
public sealed class ModuleBinder
{
    private ulong _rngState;
    private readonly List<Parameter> _parameters = new();

    internal ModuleBinder(Device device, DType dtype, int seed)
    {
        Device = device;
        DType = dtype;
        _rngState = (ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
    }

    public Device Device { get; }
    public DType DType { get; }
    internal List<Parameter> Parameters => _parameters;

    /// <summary>Creates a parameter initialised from U(−bound, bound).</summary>
    public Parameter Parameter(string name, Shape shape, double bound)
    {
        var values = new double[shape.Count];
        for (int i = 0; i < values.Length; i++)
        {
            _rngState = Rng.Mix(_rngState);
            values[i] = ((_rngState >> 11) * (1.0 / (1UL << 53)) * 2 - 1) * bound;
        }
        var tensor = Tensor.From<double>(values, shape, DType, Device);
        var p = new Parameter(name, tensor);
        _parameters.Add(p);
        return p;
    }

    public void Layer(string name, ILayer? layer)
    {
        if (layer is null) throw new InvalidOperationException($"Layer '{name}' is null when its model is bound: assign it in a field initializer or constructor.");
        layer.Bind(this, name + ".");
    }
}
