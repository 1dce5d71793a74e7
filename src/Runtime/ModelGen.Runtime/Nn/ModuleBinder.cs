using ModelGen.Cpu;

namespace ModelGen;

/// <summary>Creates the parameters of a model tree on one device, in declaration order, from one seed.</summary>
public sealed class ModuleBinder
{
    private ulong _rngState;
    private readonly List<Parameter> _parameters = new();
    private readonly List<Parameter> _buffers = new();

    internal ModuleBinder(Device device, DType dtype, int seed)
    {
        Device = device;
        DType = dtype;
        _rngState = (ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
    }

    public Device Device { get; }
    public DType DType { get; }
    internal List<Parameter> Parameters => _parameters;
    internal List<Parameter> Buffers => _buffers;

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

    /// <summary>Creates a parameter initialised from N(0, std²) (Box–Muller on the same seeded stream).</summary>
    public Parameter NormalParameter(string name, Shape shape, double std, int? zeroRow = null)
    {
        var values = new double[shape.Count];
        for (int i = 0; i < values.Length; i++)
        {
            _rngState = Rng.Mix(_rngState);
            double u1 = 1 - (_rngState >> 11) * (1.0 / (1UL << 53));
            _rngState = Rng.Mix(_rngState);
            double u2 = (_rngState >> 11) * (1.0 / (1UL << 53));
            values[i] = std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        if (zeroRow is int row && shape.Rank == 2) Array.Clear(values, row * shape[1], shape[1]);
        var p = new Parameter(name, Tensor.From<double>(values, shape, DType, Device));
        _parameters.Add(p);
        return p;
    }

    /// <summary>Creates a parameter filled with one value (LayerNorm: weight 1, bias 0).</summary>
    public Parameter ConstantParameter(string name, Shape shape, double value)
    {
        var p = new Parameter(name, Tensor.From<double>(Enumerable.Repeat(value, shape.Count).ToArray(), shape, DType, Device));
        _parameters.Add(p);
        return p;
    }

    /// <summary>Creates a buffer filled with one value: saved and loaded with the model, never trained (BatchNorm's
    /// running statistics). It draws nothing from the seeded stream, so adding one does not change other initialisations.</summary>
    public Parameter Buffer(string name, Shape shape, double value)
    {
        var b = new Parameter(name, Tensor.From<double>(Enumerable.Repeat(value, shape.Count).ToArray(), shape, DType, Device), isBuffer: true);
        _buffers.Add(b);
        return b;
    }

    /// <summary>Makes a [Parameter] (or, with <paramref name="buffer"/>, a [Buffer]) tensor field the model's parameter:
    /// its values are initialised by <paramref name="init"/> (with arguments <paramref name="a"/>, <paramref name="b"/>)
    /// from the seeded stream, on the binder's device and in its dtype, and the field's tensor takes that storage (the
    /// memory its initializer allocated is freed), so the field and <see cref="ModelGen.Parameter.Value"/> are one tensor.</summary>
    public Parameter TensorParameter(string name, Tensor? field, TensorInit init, double a = 0, double b = 0, bool buffer = false)
    {
        if (field is null) throw new InvalidOperationException($"[{(buffer ? "Buffer" : "Parameter")}] tensor '{name}' is null when its model is bound: assign it in a field initializer or constructor.");
        if (field.IsDisposed) throw new ObjectDisposedException(name, $"[{(buffer ? "Buffer" : "Parameter")}] tensor '{name}' was disposed before its model was bound.");
        if (!IsFloat(field.DType) && (init != TensorInit.AsGiven || !buffer))
            throw new InvalidOperationException($"[Parameter] tensor '{name}' holds {field.DType}: a trainable tensor must be floating point (an integer or boolean tensor can be a [Buffer]).");
        double[] values;
        if (init == TensorInit.AsGiven) values = field.ToDoubleArray();
        else
        {
            values = new double[field.Count];
            Fill(values, init, a, b, ref _rngState);
        }
        var dtype = IsFloat(field.DType) ? DType : field.DType;
        var bound = Tensor.From<double>(values, field.Shape, dtype, Device);
        field.AdoptStorage(bound);
        var p = new Parameter(name, field, isBuffer: buffer);
        (buffer ? _buffers : _parameters).Add(p);
        return p;
    }

    private static bool IsFloat(DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>Fills <paramref name="values"/> from the seeded stream (Normal: Box–Muller, as <see cref="NormalParameter"/>).</summary>
    internal static void Fill(double[] values, TensorInit init, double a, double b, ref ulong state)
    {
        for (int i = 0; i < values.Length; i++)
        {
            switch (init)
            {
                case TensorInit.Zeros: values[i] = 0; break;
                case TensorInit.Ones: values[i] = 1; break;
                case TensorInit.Constant: values[i] = a; break;
                case TensorInit.Uniform:
                    state = Rng.Mix(state);
                    values[i] = a + (state >> 11) * (1.0 / (1UL << 53)) * (b - a);
                    break;
                case TensorInit.Normal:
                    state = Rng.Mix(state);
                    double u1 = 1 - (state >> 11) * (1.0 / (1UL << 53));
                    state = Rng.Mix(state);
                    double u2 = (state >> 11) * (1.0 / (1UL << 53));
                    values[i] = a + b * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(init), init, "not an initialisation that draws values");
            }
        }
    }

    public void Layer(string name, ILayer? layer)
    {
        if (layer is null) throw new InvalidOperationException($"Layer '{name}' is null when its model is bound: assign it in a field initializer or constructor.");
        layer.Bind(this, name + ".");
    }
}
