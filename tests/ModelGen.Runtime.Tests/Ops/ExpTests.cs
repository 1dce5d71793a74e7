namespace ModelGen.Tests.Ops;

[Model] public partial class ExpOp { Tensor Forward(Tensor x) => Exp(x); }

/// <summary>Exp(x) = eˣ against its float64 reference.</summary>
public sealed class ExpTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new ExpOp(device, 0, dtype);

    protected override double Reference(double x) => Math.Exp(x);

    protected override double[] ExtremeInputs => [-100, -30, -1e-30, 0, 1e-30, 30, 80, -20.5, 20.5, -5, 5, 1e-3, -1e-3, 0.5, -0.5, 2];
}
