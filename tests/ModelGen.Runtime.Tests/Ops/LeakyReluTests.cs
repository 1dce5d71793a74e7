namespace ModelGen.Tests.Ops;

[Model] public partial class LeakyReluOp { Tensor Forward(Tensor x) => LeakyRelu(x, negativeSlope: 0.1); }

/// <summary>LeakyRelu(x, 0.1) = x for x &gt; 0, 0.1·x otherwise, against its float64 reference (inputs kept off the kink at
/// 0, where finite differences do not hold).</summary>
public sealed class LeakyReluTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new LeakyReluOp(device, 0, dtype);

    protected override double Reference(double x) => x > 0 ? x : 0.1 * x;

    public override double Domain(double v) => v >= 0 ? v + 0.01 : v - 0.01;
}
