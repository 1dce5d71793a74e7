namespace ModelGen.Gpu;

/// <summary>
/// The ILGPU form of the op rules' math: float, static, value types only, so ILGPU compiles it for CUDA and OpenCL.
/// The same formulas as <see cref="Cpu.VMath"/> (the generator writes one expression and picks VMath or GpuMath).
/// </summary>
public static class GpuMath
{
    private const float Sqrt1Over2 = 0.70710678118654752440f;
    private const float InvSqrt2Pi = 0.39894228040143267794f;
    private const float GeluTanhK = 0.79788456080286535588f;
    private const float GeluTanhC = 0.044715f;

    public static float C(double value) => (float)value;
    public static float Relu(float x) => x > 0f ? x : 0f;
    public static float ReluGrad(float x, float g) => x > 0f ? g : 0f;
    public static float Exp(float x) => MathF.Exp(x);
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
    public static float SigmoidGrad(float y, float g) => g * y * (1f - y);

    public static float Tanh(float x)
    {
        float e = MathF.Exp(-2f * MathF.Abs(x));
        float t = (1f - e) / (1f + e);
        return x < 0f ? -t : t;
    }

    public static float TanhGrad(float y, float g) => g * (1f - y * y);

    public static float Erf(float x)
    {
        float ax = MathF.Abs(x);
        float t = 1f / (1f + 0.3275911f * ax);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        float y = 1f - poly * MathF.Exp(-ax * ax);
        return x < 0f ? -y : y;
    }

    public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * Sqrt1Over2));
    public static float GeluGrad(float x, float g) => g * (0.5f * (1f + Erf(x * Sqrt1Over2)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x));
    public static float GeluTanh(float x) => 0.5f * x * (1f + Tanh(GeluTanhK * (x + GeluTanhC * x * x * x)));

    public static float GeluTanhGrad(float x, float g)
    {
        float t = Tanh(GeluTanhK * (x + GeluTanhC * x * x * x));
        float du = GeluTanhK * (1f + 3f * GeluTanhC * x * x);
        return g * (0.5f * (1f + t) + 0.5f * x * (1f - t * t) * du);
    }

    /// <summary>Activation by code (0 identity, 1 relu, 2 tanh, 3 sigmoid) and its derivative from the output.</summary>
    public static float Activate(int code, float x) => code switch { 1 => Relu(x), 2 => Tanh(x), 3 => Sigmoid(x), _ => x };

    public static float ActivationGrad(int code, float y, float g) => code switch
    {
        1 => ReluGrad(y, g),
        2 => TanhGrad(y, g),
        3 => SigmoidGrad(y, g),
        _ => g,
    };
}
