namespace ModelGen.Tests.Ops;

[Model] public partial class SqrtOp { Tensor Forward(Tensor x) => Sqrt(x); }

/// <summary>Sqrt(x) = √x against its float64 reference.</summary>
public sealed class SqrtTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new SqrtOp(device, 0, dtype);

    protected override double Reference(double x) => Math.Sqrt(x);

    public override double Domain(double v) => Math.Abs(v) + 0.5;
}
