namespace ModelGen.Tests.Ops;

[Model] public partial class RsqrtOp { Tensor Forward(Tensor x) => Rsqrt(x); }

/// <summary>Rsqrt(x) = 1/√x against its float64 reference.</summary>
public sealed class RsqrtTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new RsqrtOp(device, 0, dtype);

    protected override double Reference(double x) => 1 / Math.Sqrt(x);

    public override double Domain(double v) => Math.Abs(v) + 0.5;
}
