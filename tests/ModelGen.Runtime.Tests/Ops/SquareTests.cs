namespace ModelGen.Tests.Ops;

[Model] public partial class SquareOp { Tensor Forward(Tensor x) => Square(x); }

/// <summary>Square(x) = x² against its float64 reference.</summary>
public sealed class SquareTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new SquareOp(device, 0, dtype);

    protected override double Reference(double x) => x * x;
}
