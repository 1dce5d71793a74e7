namespace ModelGen.Tests.Ops;

[Model] public partial class SiluOp { Tensor Forward(Tensor x) => Silu(x); }

/// <summary>silu(x) = x/(1 + e^−x) against its float64 reference, and a gated unit (the SwiGLU-style a·silu(b) waits
/// for tensor products; here silu after a GEMM, fused into the element-wise kernel that follows it).</summary>
public sealed class SiluTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new SiluOp(device, 0, dtype);

    protected override double Reference(double x) => x / (1 + Math.Exp(-x));

    [Test]
    public void AfterAGemm_GradientsMatchFiniteDifferences()
    {
        using var model = new SiluMlp(Device.Cpu, 5, DType.Float64);
        using var x = Tensor.From<double>(Enumerable.Range(0, 6 * 9).Select(i => Math.Cos(0.7 * i)).ToArray(), new Shape(6, 9), DType.Float64);
        using var target = Tensor.From<double>(Enumerable.Range(0, 6 * 3).Select(i => Math.Sin(i)).ToArray(), new Shape(6, 3), DType.Float64);
        double Loss() => model.Mse(x, target);
        model.ZeroGrad();
        Loss();
        model.Backward();
        ModelGen.Tests.Reference.Numerics.AssertDirectionalDerivatives(model, Loss, new Random(6));
    }
}

[Model]
public partial class SiluMlp
{
    [Layer] readonly Linear fc1 = new(9, 17);
    [Layer] readonly Linear fc2 = new(17, 3);
    Tensor Forward(Tensor x) => fc2.Apply(Silu(fc1.Apply(x)));
}
