using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>Each op: float32 kernels against the float64 reference (‖a − b‖/‖b‖ ≤ 1e-5), and the generated backward
/// (run in float64) against central finite differences of the float64 reference (≤ 1e-6), at sizes 1, 3, 17, 257.</summary>
[Category("CpuEngine")]
public class OpTests
{
    public static readonly int[] Sizes = [1, 3, 17, 257];

    public sealed record UnaryCase(string Name, Func<DType, Module> Create, Func<double[], int, double[]> Reference, bool Kink = false)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<UnaryCase> UnaryCases() =>
    [
        new("relu", d => new ReluOp(Device.Cpu, 0, d), (x, _) => Ref.Map(x, Ref.Relu), Kink: true),
        new("tanh", d => new TanhOp(Device.Cpu, 0, d), (x, _) => Ref.Map(x, Math.Tanh)),
        new("sigmoid", d => new SigmoidOp(Device.Cpu, 0, d), (x, _) => Ref.Map(x, Ref.Sigmoid)),
        new("gelu", d => new GeluOp(Device.Cpu, 0, d), (x, _) => Ref.Map(x, Ref.Gelu)),
        new("gelu-tanh", d => new GeluTanhOp(Device.Cpu, 0, d), (x, _) => Ref.Map(x, Ref.GeluTanh)),
        new("mul-scalar", d => new MulScalarOp(Device.Cpu, 0, d), (x, _) => Ref.Map(x, v => v * 2.5)),
        new("div-neg", d => new DivNegOp(Device.Cpu, 0, d), (x, _) => Ref.Map(x, v => -(v / 4))),
        new("softmax", d => new SoftmaxOp(Device.Cpu, 0, d), (x, c) => Ref.Softmax(x, c, log: false)),
        new("log-softmax", d => new LogSoftmaxOp(Device.Cpu, 0, d), (x, c) => Ref.Softmax(x, c, log: true)),
        new("sum", d => new SumOp(Device.Cpu, 0, d), (x, _) => [x.Sum()]),
        new("mean", d => new MeanOp(Device.Cpu, 0, d), (x, _) => [x.Average()]),
        new("flatten", d => new FlattenOp(Device.Cpu, 0, d), (x, _) => (double[])x.Clone()),
    ];

    private static dynamic Dyn(Module m) => m;

    [Test]
    public void Forward_Float32_MatchesFloat64Reference([ValueSource(nameof(UnaryCases))] UnaryCase op, [ValueSource(nameof(Sizes))] int size)
    {
        var rng = new Random(1000 + size);
        int rows = 3;
        var x = Numerics.Randn(rng, rows * size, 2);
        using var model = op.Create(DType.Float32);
        using var input = Tensor.From<double>(x, new Shape(rows, size), DType.Float32);
        Tensor y = Dyn(model).Run(input);
        var expected = op.Reference(Numerics.ToDouble(input.ToArray()), size);
        Assert.That(Numerics.RelativeError(Numerics.ToDouble(y.ToArray()), expected), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void Backward_MatchesFiniteDifferences([ValueSource(nameof(UnaryCases))] UnaryCase op, [ValueSource(nameof(Sizes))] int size)
    {
        var rng = new Random(2000 + size);
        int rows = 3;
        var x = Numerics.Randn(rng, rows * size, 2);
        if (op.Kink) x = x.Select(v => Math.Abs(v) < 1e-3 ? v + 0.01 : v).ToArray();
        using var model = op.Create(DType.Float64);
        using var input = Tensor.From<double>(x, new Shape(rows, size), DType.Float64);
        input.RequiresGrad = true;
        Tensor y = Dyn(model).Run(input);
        var gy = Numerics.Randn(rng, y.Count);
        using var gradOutput = Tensor.From<double>(gy, y.Shape, DType.Float64);
        Dyn(model).Backward(gradOutput);
        var analytic = input.Grad!.ToDoubleArray();
        var numeric = Numerics.FiniteDifferenceVjp(v => op.Reference(v, size), x, gy, Enumerable.Range(0, x.Length));
        Numerics.AssertGradient(analytic, numeric, 1e-6);
    }

    [Test]
    public void Linear_ForwardAndBackward([ValueSource(nameof(Sizes))] int inF, [Values(1, 5, 17)] int outF)
    {
        var rng = new Random(inF * 31 + outF);
        int rows = 4;
        var x = Numerics.Randn(rng, rows * inF);
        // float32 forward
        using (var m32 = new LinearOp(inF, outF, DType.Float32))
        {
            using var input = Tensor.From<double>(x, new Shape(rows, inF), DType.Float32);
            var y = m32.Run(input).ToArray();
            var w = Numerics.ToDouble(m32.Parameter("fc.weight").Value.ToArray());
            var b = Numerics.ToDouble(m32.Parameter("fc.bias").Value.ToArray());
            var expected = Ref.Linear(Numerics.ToDouble(input.ToArray()), w, b, inF, outF);
            Assert.That(Numerics.RelativeError(Numerics.ToDouble(y), expected), Is.LessThanOrEqualTo(1e-5));
        }
        // float64 backward vs finite differences (input, weight and bias)
        using var m = new LinearOp(inF, outF, DType.Float64);
        using var xt = Tensor.From<double>(x, new Shape(rows, inF), DType.Float64);
        xt.RequiresGrad = true;
        var yt = m.Run(xt);
        var gy = Numerics.Randn(rng, yt.Count);
        using var g = Tensor.From<double>(gy, yt.Shape, DType.Float64);
        m.Backward(g);
        var weight = m.Parameter("fc.weight");
        var bias = m.Parameter("fc.bias");
        var wv = weight.Value.ToDoubleArray();
        var bv = bias.Value.ToDoubleArray();
        var coords = Sample(rng, x.Length, 60);
        var dx = Numerics.FiniteDifferenceVjp(v => Ref.Linear(v, wv, bv, inF, outF), x, gy, coords);
        Numerics.AssertGradient(Pick(xt.Grad!.ToDoubleArray(), coords), Pick(dx, coords), 1e-6);
        var wCoords = Sample(rng, wv.Length, 60);
        var dw = Numerics.FiniteDifferenceVjp(v => Ref.Linear(x, v, bv, inF, outF), wv, gy, wCoords);
        Numerics.AssertGradient(Pick(weight.Grad.ToDoubleArray(), wCoords), Pick(dw, wCoords), 1e-6);
        var db = Numerics.FiniteDifferenceVjp(v => Ref.Linear(x, wv, v, inF, outF), bv, gy, Enumerable.Range(0, outF));
        Numerics.AssertGradient(bias.Grad.ToDoubleArray(), db, 1e-6);
    }

    [Test]
    public void AddSubMse_ForwardAndBackward([ValueSource(nameof(Sizes))] int size)
    {
        var rng = new Random(size + 7);
        var a = Numerics.Randn(rng, 3 * size);
        var b = Numerics.Randn(rng, 3 * size);
        var shape = new Shape(3, size);
        (Module Model, Func<double[], double[], double[]> F)[] cases =
        [
            (new AddOp(Device.Cpu, 0, DType.Float64), (p, q) => p.Zip(q, (u, v) => u + v).ToArray()),
            (new SubOp(Device.Cpu, 0, DType.Float64), (p, q) => p.Zip(q, (u, v) => u - v).ToArray()),
            (new MseOp(Device.Cpu, 0, DType.Float64), (p, q) => [Ref.Mse(p, q)]),
        ];
        foreach (var (model, f) in cases)
        {
            using var _ = model;
            using var ta = Tensor.From<double>(a, shape, DType.Float64);
            using var tb = Tensor.From<double>(b, shape, DType.Float64);
            ta.RequiresGrad = tb.RequiresGrad = true;
            Tensor y = Dyn(model).Run(ta, tb);
            Assert.That(Numerics.RelativeError(y.ToDoubleArray(), f(a, b)), Is.LessThanOrEqualTo(1e-12), model.GetType().Name);
            var gy = Numerics.Randn(rng, y.Count);
            using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
            Dyn(model).Backward(g);
            var all = Enumerable.Range(0, a.Length).ToArray();
            var da = Numerics.FiniteDifferenceVjp(v => f(v, b), a, gy, all);
            var dbv = Numerics.FiniteDifferenceVjp(v => f(a, v), b, gy, all);
            Numerics.AssertGradient(ta.Grad!.ToDoubleArray(), da, 1e-6, model.GetType().Name);
            Numerics.AssertGradient(tb.Grad!.ToDoubleArray(), dbv, 1e-6, model.GetType().Name);
        }
    }

    [Test]
    public void CrossEntropyHead_ForwardAndBackward([Values(1, 3, 17)] int rows, [Values(2, 7, 257)] int classes)
    {
        var rng = new Random(rows * 100 + classes);
        var x = Numerics.Randn(rng, rows * 4);
        var labels = Enumerable.Range(0, rows).Select(_ => rng.Next(classes)).ToArray();
        using var m = new LinearOp(4, classes, DType.Float64);
        using var xt = Tensor.From<double>(x, new Shape(rows, 4), DType.Float64);
        xt.RequiresGrad = true;
        var loss = m.CrossEntropy(xt, labels);
        var w = m.Parameter("fc.weight").Value.ToDoubleArray();
        var b = m.Parameter("fc.bias").Value.ToDoubleArray();
        Assert.That(loss, Is.EqualTo(Ref.CrossEntropy(Ref.Linear(x, w, b, 4, classes), labels, classes)).Within(1e-12));
        m.Backward();
        var dx = Numerics.FiniteDifferenceVjp(v => [Ref.CrossEntropy(Ref.Linear(v, w, b, 4, classes), labels, classes)], x, [1.0], Enumerable.Range(0, x.Length));
        Numerics.AssertGradient(xt.Grad!.ToDoubleArray(), dx, 1e-6);
    }

    [Test]
    public void CrossEntropy_RejectsLabelsOutOfRangeAndWrongCount()
    {
        using var m = new LinearOp(4, 3, DType.Float32);
        using var x = Tensor.Zeros(2, 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => m.CrossEntropy(x, [0, 3]))!;
        Assert.That(e.Message, Does.Contain("Label 3 at row 1"));
        Assert.Throws<ShapeMismatchException>(() => m.CrossEntropy(x, [0]));
    }

    internal static int[] Sample(Random rng, int n, int count)
        => n <= count ? Enumerable.Range(0, n).ToArray() : Enumerable.Range(0, count).Select(_ => rng.Next(n)).Distinct().ToArray();

    internal static double[] Pick(double[] values, int[] idx) => idx.Select(i => values[i]).ToArray();
}
