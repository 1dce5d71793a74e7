namespace ModelGen.Tests.Ops;

/// <summary>σ(x) = 1/(1 + e^−x) (Sigmoid, also a GEMM epilogue), against its float64 reference.</summary>
public sealed class SigmoidTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new SigmoidOp(device, 0, dtype);

    protected override double Reference(double x) => 1 / (1 + Math.Exp(-x));
}
