namespace ModelGen.Tests.Ops;

[Model] public partial class SoftplusOp { Tensor Forward(Tensor x) => Softplus(x); }

/// <summary>softplus(x) = log(1 + eˣ) against its float64 reference: for x &gt; 0, x + log1p(e^−x); else log1p(eˣ)
/// (Math.Log(1 + u) would lose u below 1e-16).</summary>
public sealed class SoftplusTests : ElementwiseOpContract
{
    public override Module Create(Device device, DType dtype) => new SoftplusOp(device, 0, dtype);

    protected override double Reference(double x) => x > 0 ? x + Log1p(Math.Exp(-x)) : Log1p(Math.Exp(x));

    // log1p by its series where 1 + u rounds (|u| < 1e-4: u − u²/2 + u³/3 − u⁴/4 is exact to 1e-20 relative)
    private static double Log1p(double u) => Math.Abs(u) < 1e-4 ? u - u * u / 2 + u * u * u / 3 - u * u * u * u / 4 : Math.Log(1 + u);

    [Test]
    public void InsideALayerStack_FusesAfterTheGemmAndTrains()
    {
        using var model = new SoftplusHead(Device.Cpu, 3);
        using var x = Tensor.From<double>(Enumerable.Range(0, 8 * 5).Select(i => Math.Sin(i)).ToArray(), new Shape(8, 5), DType.Float32);
        var optimizer = new ModelGen.Optim.Adam(model.Parameters, lr: 0.01);
        using var target = Tensor.Zeros(new Shape(8, 1));
        double first = model.Mse(x, target), last = first;
        for (int step = 0; step < 50; step++)
        {
            last = model.Mse(x, target);
            model.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        Assert.That(last, Is.LessThan(first * 0.1), "softplus(h) → 0 as the layer learns to push h negative");
    }
}

[Model]
public partial class SoftplusHead
{
    [Layer] readonly Linear fc1 = new(5, 7);
    [Layer] readonly Linear fc2 = new(7, 1);
    Tensor Forward(Tensor x) => Softplus(fc2.Apply(Softplus(fc1.Apply(x))));
}
