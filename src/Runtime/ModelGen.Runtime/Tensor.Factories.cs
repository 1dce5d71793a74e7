namespace ModelGen;

/// <summary>Factories for tensors filled with a value or random numbers (float32 on the CPU). As the initializer of a
/// <c>[Parameter]</c> field they are read by the generator as a spec, and the values are drawn from the model's seed
/// when it binds.</summary>
public sealed partial class Tensor
{
    public static Tensor Ones(params int[] dims) => Init.Ones(dims);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] dims, double value) => Init.Constant(dims, value);

    /// <summary>U[0, 1) (torch.rand).</summary>
    public static Tensor Rand(params int[] dims) => Init.Uniform(dims);

    /// <summary>N(0, 1) (torch.randn).</summary>
    public static Tensor Randn(params int[] dims) => Init.Normal(dims);
}
