namespace ModelGen.Tests.Ops;

[Model] public partial class AbsOp { Tensor Forward(Tensor x) => Abs(x); }

/// <summary>Abs(x) = |x| against its float64 reference.</summary>
public sealed class AbsTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new AbsOp(device, 0, dtype);

    protected override double Reference(double x) => Math.Abs(x);

    public override double Domain(double v) => v >= 0 ? v + 0.01 : v - 0.01;
}
