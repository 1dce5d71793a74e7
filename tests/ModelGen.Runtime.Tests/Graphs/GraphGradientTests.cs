using ModelGen.Tests.Ops;
using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Graphs;

/// <summary>Whole graphs gradient-checked end to end in float64 through the same fused plan the float32 kernels use:
/// every parameter gradient by directional derivatives and sampled coordinates, and the input gradient.</summary>
[Category("CpuEngine")]
public class GraphGradientTests
{
    public sealed record Case(string Name, Func<Module> Create, int[] InputShape, bool Mse = false)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Case> Cases() =>
    [
        new("fan-out", () => new FanOut(Device.Cpu, 1, DType.Float64), [4, 5]),
        new("shared-weights", () => new SharedWeights(Device.Cpu, 2, DType.Float64), [3, 6]),
        new("residual", () => new Residual(Device.Cpu, 3, DType.Float64), [5, 4]),
        new("nested", () => new Nested(Device.Cpu, 4, DType.Float64), [3, 5]),
        new("block-list", () => new Stack(3, 6, DType.Float64), [4, 5]),
        new("empty-block-list", () => new Stack(0, 5, DType.Float64), [2, 5]),
        new("activation-chain-mse", () => new ActivationChain(Device.Cpu, 5, DType.Float64), [3, 4], Mse: true),
        new("dropout-eval", () => { var m = new WithDropout(Device.Cpu, 6, DType.Float64); m.Eval(); return m; }, [5, 6]),
        new("dropout-train", () => new WithDropout(Device.Cpu, 6, DType.Float64), [5, 6]),
        new("reshape", () => new Reshapes(Device.Cpu, 7, DType.Float64), [2, 4, 6]),
    ];

    private static IModel Dyn(Module m) => (IModel)m;

    [Test]
    public void Gradients_MatchFiniteDifferences([ValueSource(nameof(Cases))] Case c)
    {
        using var model = c.Create();
        var rng = new Random(c.Name.Length * 7919);
        var shape = new Shape(c.InputShape);
        var x = Numerics.Randn(rng, shape.Count);
        int rows = c.InputShape[0];
        using var input = Tensor.From<double>(x, shape, DType.Float64);
        input.RequiresGrad = true;
        var labels = Enumerable.Range(0, rows).Select(i => i % 3).ToArray();
        var outputShape = Dyn(model).InferShape(shape);
        using var target = Tensor.From<double>(Numerics.Randn(rng, outputShape.Count), outputShape, DType.Float64);

        const ulong step = 41;
        double Loss(Tensor xin)
        {
            model.Step = step;
            return c.Mse ? Dyn(model).Mse(xin, target) : Dyn(model).CrossEntropy(xin, labels);
        }

        model.ZeroGrad();
        Loss(input);
        Dyn(model).Backward();

        // every parameter: a directional derivative along a random direction, and sampled coordinates
        foreach (var p in model.Parameters)
        {
            var values = p.Value.AsSpan<double>();
            var grad = p.Grad.ToDoubleArray();
            var direction = Numerics.Randn(rng, values.Length);
            double analytic = Ref.Dot(grad, direction);
            var original = values.ToArray();
            const double h = 1e-6;
            for (int i = 0; i < values.Length; i++) values[i] = original[i] + h * direction[i];
            double lp = Loss(input);
            for (int i = 0; i < values.Length; i++) values[i] = original[i] - h * direction[i];
            double lm = Loss(input);
            original.CopyTo(values);
            double numeric = (lp - lm) / (2 * h);
            Assert.That(Math.Abs(analytic - numeric), Is.LessThanOrEqualTo(1e-6 * Math.Max(1, Math.Abs(numeric))), $"{c.Name}: {p.Name} directional");

            foreach (var i in OpTests.Sample(rng, values.Length, 5))
            {
                values[i] = original[i] + h;
                double cp = Loss(input);
                values[i] = original[i] - h;
                double cm = Loss(input);
                values[i] = original[i];
                Assert.That(grad[i], Is.EqualTo((cp - cm) / (2 * h)).Within(1e-6 * Math.Max(1, Math.Abs(grad[i]))), $"{c.Name}: {p.Name}[{i}]");
            }
        }

        // the input gradient, every coordinate
        var inputGrad = input.Grad!.ToDoubleArray();
        var fd = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var xs = input.AsSpan<double>();
            xs[i] = x[i] + 1e-6;
            double lp = Loss(input);
            xs[i] = x[i] - 1e-6;
            double lm = Loss(input);
            xs[i] = x[i];
            fd[i] = (lp - lm) / 2e-6;
        }
        Assert.That(Numerics.RelativeError(inputGrad, fd), Is.LessThanOrEqualTo(1e-6), $"{c.Name}: input");
    }

    [Test]
    public void InGraphLossWithTwoInputs_MatchesFiniteDifferences()
    {
        using var model = new InGraphLosses(Device.Cpu, 9, DType.Float64);
        var rng = new Random(77);
        var x = Numerics.Randn(rng, 3 * 5);
        var t = Numerics.Randn(rng, 3 * 4, 0.3);
        using var xt = Tensor.From<double>(x, new Shape(3, 5), DType.Float64);
        using var tt = Tensor.From<double>(t, new Shape(3, 4), DType.Float64);
        xt.RequiresGrad = tt.RequiresGrad = true;
        model.Run(xt, tt);
        model.Backward();
        var w = model.Parameter("fc.weight").Value.ToDoubleArray();
        var b = model.Parameter("fc.bias").Value.ToDoubleArray();
        double F(double[] xv, double[] tv)
        {
            var h = Ref.Linear(xv, w, b, 5, 4);
            return Ref.Mse(Ref.Softmax(h, 4, false), tv) + Ref.Softmax(h, 4, true).Average() * -0.1;
        }
        var all = Enumerable.Range(0, x.Length);
        var dx = Numerics.FiniteDifferenceVjp(v => [F(v, t)], x, [1.0], all);
        var dt = Numerics.FiniteDifferenceVjp(v => [F(x, v)], t, [1.0], Enumerable.Range(0, t.Length));
        Assert.That(Numerics.RelativeError(xt.Grad!.ToDoubleArray(), dx), Is.LessThanOrEqualTo(1e-6));
        Assert.That(Numerics.RelativeError(tt.Grad!.ToDoubleArray(), dt), Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void Dropout_TrainMasksAndScales_EvalIsIdentity()
    {
        using var model = new WithDropout(Device.Cpu, 3, DType.Float64);
        using var x = Tensor.From<double>(Numerics.Randn(new Random(1), 64 * 6), new Shape(64, 6), DType.Float64);
        var train1 = model.Run(x).ToDoubleArray();
        var train2 = model.Run(x).ToDoubleArray();
        Assert.That(train1, Is.Not.EqualTo(train2), "a new mask each training step");
        model.Step = 0;
        Assert.That(model.Run(x).ToDoubleArray(), Is.EqualTo(train1), "the same step gives the same mask");
        model.Eval();
        var eval1 = model.Run(x).ToDoubleArray();
        Assert.That(model.Run(x).ToDoubleArray(), Is.EqualTo(eval1));
        Assert.That(eval1, Is.Not.EqualTo(train1));
    }

    [Test]
    public void FrozenParameters_GetNoGradientAndAreNotUpdated()
    {
        using var model = new FanOut(Device.Cpu, 1);
        var frozen = model.Parameter("fc1.weight");
        frozen.RequiresGrad = false;
        var before = frozen.Value.ToArray();
        using var opt = new ModelGen.Optim.Sgd(model.Parameters, lr: 0.1);
        using var x = Tensor.From<double>(Numerics.Randn(new Random(2), 20), new Shape(4, 5), DType.Float32);
        model.CrossEntropy(x, [0, 1, 2, 0]);
        model.Backward();
        opt.Step();
        Assert.That(frozen.Grad.ToArray().All(v => v == 0), Is.True);
        Assert.That(frozen.Value.ToArray(), Is.EqualTo(before));
        Assert.That(model.Parameter("fc2.weight").Grad.ToArray().Any(v => v != 0), Is.True);
    }
}
