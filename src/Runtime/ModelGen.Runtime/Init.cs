namespace ModelGen;

/// <summary>
/// Initialisation specs for <c>[Parameter]</c> tensors: <c>Init.Normal([512, 64], std: 0.02)</c>. In a [Parameter]
/// field's initializer the generator reads the call as a spec and the values are drawn when the model binds, from the
/// model's seed, on its device and in its dtype. Called anywhere else, each returns a float32 CPU tensor with values
/// drawn from a fresh random seed (or from the seed given).
/// </summary>
public static class Init
{
    public static Tensor Zeros(int[] shape) => Tensor.Zeros(new Shape(shape));

    public static Tensor Ones(int[] shape) => Constant(shape, 1);

    public static Tensor Constant(int[] shape, double value)
        => Tensor.From<double>(Enumerable.Repeat(value, new Shape(shape).Count).ToArray(), new Shape(shape), DType.Float32);

    /// <summary>N(mean, std²) (PyTorch's nn.init.normal_).</summary>
    public static Tensor Normal(int[] shape, double mean = 0, double std = 1, int? seed = null)
        => Draw(shape, TensorInit.Normal, mean, std, seed);

    /// <summary>U(low, high) (PyTorch's nn.init.uniform_).</summary>
    public static Tensor Uniform(int[] shape, double low = 0, double high = 1, int? seed = null)
        => Draw(shape, TensorInit.Uniform, low, high, seed);

    private static Tensor Draw(int[] shape, TensorInit init, double a, double b, int? seed)
    {
        var s = new Shape(shape);
        var values = new double[s.Count];
        ulong state = (ulong)(seed ?? Random.Shared.Next()) * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
        ModuleBinder.Fill(values, init, a, b, ref state);
        return Tensor.From<double>(values, s, DType.Float32);
    }
}

/// <summary>How a [Parameter] or [Buffer] tensor is initialised when its model binds (read by the generator from the
/// field's initializer).</summary>
public enum TensorInit
{
    /// <summary>Keep the values the initializer computed (converted to the model's dtype and device).</summary>
    AsGiven,
    Zeros,
    Ones,
    /// <summary>Every element the first argument.</summary>
    Constant,
    /// <summary>N(a, b²).</summary>
    Normal,
    /// <summary>U(a, b).</summary>
    Uniform,
}
