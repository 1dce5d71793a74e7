using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

[Model] public partial class MulOp { Tensor Forward(Tensor a, Tensor b) => a * b; }
[Model] public partial class DivOp { Tensor Forward(Tensor a, Tensor b) => a / b; }
[Model] public partial class AddScalarOp { Tensor Forward(Tensor a, Tensor b) => a + 1.5 - b * 0.25 + (2 + b) - 0.5; }
[Model] public partial class MaximumOp { Tensor Forward(Tensor a, Tensor b) => Maximum(a, b); }
[Model] public partial class MinimumOp { Tensor Forward(Tensor a, Tensor b) => Minimum(a, b); }
[Model] public partial class ScalarMinusOp { Tensor Forward(Tensor a, Tensor b) => 1.0 - a * b; }

/// <summary>A gated unit, as a new user writes it: out(a(x) ⊙ σ(g(x))).</summary>
[Model]
public partial class GatedMlp
{
    [Layer] readonly Linear a = new(5, 7);
    [Layer] readonly Linear g = new(5, 7);
    [Layer] readonly Linear output = new(7, 3);
    Tensor Forward(Tensor x) => output.Apply(a.Apply(x) * Sigmoid(g.Apply(x)));
}

/// <summary>
/// '*' and '/' between tensors of one shape and '+'/'−' with a number on either side, inside a compiled Forward:
/// float64 forward against a reference written here, float32 against float64, and both inputs' float64 gradients
/// against central finite differences element by element, at sizes 1, 3, 17 and 257; then a gated MLP end to end.
/// </summary>
public class TensorArithmeticTests
{
    public sealed record Case(string Name, Func<Device, DType, Module> Create, Func<double, double, double> Reference)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Case> Cases() =>
    [
        new("a * b", (d, t) => new MulOp(d, 0, t), (a, b) => a * b),
        new("a / b", (d, t) => new DivOp(d, 0, t), (a, b) => a / b),
        new("a + 1.5 - b * 0.25 + (2 + b) - 0.5", (d, t) => new AddScalarOp(d, 0, t), (a, b) => a + 1.5 - b * 0.25 + (2 + b) - 0.5),
        new("1.0 - a * b", (d, t) => new ScalarMinusOp(d, 0, t), (a, b) => 1.0 - a * b),
        new("Maximum(a, b)", (d, t) => new MaximumOp(d, 0, t), Math.Max),
        new("Minimum(a, b)", (d, t) => new MinimumOp(d, 0, t), Math.Min),
    ];

    public static IEnumerable<int[]> Shapes() => [[1, 1], [3, 1], [3, 17], [2, 257]];

    private static (double[] A, double[] B) Inputs(Shape shape, int seed)
    {
        var rng = new Random(seed);
        var a = Numerics.Randn(rng, shape.Count, 2);
        // b away from 0, so that a / b stays well conditioned for finite differences
        var b = Numerics.Randn(rng, shape.Count, 2).Select(v => v >= 0 ? v + 0.5 : v - 0.5).ToArray();
        return (a, b);
    }

    private static (double[] Y, double[] Da, double[] Db) Run(Case c, DType dtype, double[] a, double[] b, double[]? gy, Shape shape)
    {
        using dynamic model = c.Create(Device.Cpu, dtype);
        using var ta = Tensor.From<double>(a, shape, dtype);
        using var tb = Tensor.From<double>(b, shape, dtype);
        ta.RequiresGrad = tb.RequiresGrad = gy is not null;
        Tensor y = model.Run(ta, tb);
        var values = y.ToDoubleArray();
        if (gy is null) return (values, [], []);
        using var g = Tensor.From<double>(gy, shape, dtype);
        model.Backward(g);
        return (values, ta.Grad!.ToDoubleArray(), tb.Grad!.ToDoubleArray());
    }

    [Test]
    public void ForwardAndBackward_MatchTheReferenceAndFiniteDifferences(
        [ValueSource(nameof(Cases))] Case c, [ValueSource(nameof(Shapes))] int[] dims)
    {
        var shape = new Shape(dims);
        var (a, b) = Inputs(shape, dims.Sum());
        var gy = Numerics.Randn(new Random(7), shape.Count);
        var (y, da, db) = Run(c, DType.Float64, a, b, gy, shape);
        for (int i = 0; i < y.Length; i++)
            Assert.That(y[i], Is.EqualTo(c.Reference(a[i], b[i])).Within(1e-13 + 1e-12 * Math.Abs(y[i])), $"{c.Name}: float64 forward [{i}]");
        Numerics.AssertGradient(da, a.Select((v, i) => gy[i] * Numerics.Derivative(t => c.Reference(v + t, b[i]))).ToArray(), what: $"{c.Name}: da");
        Numerics.AssertGradient(db, b.Select((v, i) => gy[i] * Numerics.Derivative(t => c.Reference(a[i], v + t))).ToArray(), what: $"{c.Name}: db");
        var a32 = a.Select(v => (double)(float)v).ToArray();
        var b32 = b.Select(v => (double)(float)v).ToArray();
        var y32 = Run(c, DType.Float32, a32, b32, null, shape).Y;
        var y64 = Run(c, DType.Float64, a32, b32, null, shape).Y;
        Assert.That(Numerics.RelativeError(y32, y64), Is.LessThanOrEqualTo(1e-6), $"{c.Name}: float32 forward");
    }

    [Test]
    public void MaximumAndMinimum_SplitTheGradientAtTies_AsPyTorch()
    {
        var shape = new Shape(1, 3);
        double[] a = [1, 2, 3], b = [1, 5, 0], gy = [4, 4, 4];
        var max = Run(new Case("max", (d, t) => new MaximumOp(d, 0, t), Math.Max), DType.Float64, a, b, gy, shape);
        Assert.That(max.Y, Is.EqualTo(new double[] { 1, 5, 3 }));
        Assert.That(max.Da, Is.EqualTo(new double[] { 2, 0, 4 }));
        Assert.That(max.Db, Is.EqualTo(new double[] { 2, 4, 0 }));
        var min = Run(new Case("min", (d, t) => new MinimumOp(d, 0, t), Math.Min), DType.Float32, a, b, gy, shape);
        Assert.That(min.Da, Is.EqualTo(new double[] { 2, 4, 0 }));
        Assert.That(min.Db, Is.EqualTo(new double[] { 2, 0, 4 }));
    }

    [Test]
    public void DifferentShapes_AreARuntimeErrorNamingTheOperator()
    {
        using var model = new MulOp(Device.Cpu, 0);
        using var a = Tensor.Zeros(2, 3);
        using var b = Tensor.Zeros(3, 2);
        var e = Assert.Throws<ShapeMismatchException>(() => model.Run(a, b))!;
        Assert.That(e.Message, Does.Contain("*").And.Contain("[2, 3]").And.Contain("[3, 2]"));
    }

    [Test]
    public void GatedMlp_GradientsMatchFiniteDifferences()
    {
        using var model = new GatedMlp(Device.Cpu, 5, DType.Float64);
        using var x = Tensor.From<double>(Enumerable.Range(0, 6 * 5).Select(i => Math.Cos(0.7 * i)).ToArray(), new Shape(6, 5), DType.Float64);
        using var target = Tensor.From<double>(Enumerable.Range(0, 6 * 3).Select(i => Math.Sin(i)).ToArray(), new Shape(6, 3), DType.Float64);
        double Loss() => model.Mse(x, target);
        model.ZeroGrad();
        Loss();
        model.Backward();
        Numerics.AssertDirectionalDerivatives(model, Loss, new Random(6));
    }
}
