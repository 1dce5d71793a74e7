namespace ModelGen.Tests.Ops;

[Model] public partial class LogOp { Tensor Forward(Tensor x) => Log(x); }

/// <summary>Log(x) = ln x against its float64 reference.</summary>
public sealed class LogTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new LogOp(device, 0, dtype);

    protected override double Reference(double x) => Math.Log(x);

    public override double Domain(double v) => Math.Abs(v) + 0.5;
}
