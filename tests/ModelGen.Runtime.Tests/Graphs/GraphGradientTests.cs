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
            double Along(double t)
            {
                var v = p.Value.AsSpan<double>();
                for (int i = 0; i < v.Length; i++) v[i] = original[i] + t * direction[i];
                double l = Loss(input);
                original.CopyTo(v);
                return l;
            }
            double numeric = Numerics.Derivative(Along);
            Assert.That(Math.Abs(analytic - numeric), Is.LessThanOrEqualTo(1e-9 + 1e-6 * Math.Abs(numeric)), $"{c.Name}: {p.Name} directional");

            foreach (var i in OpTests.Sample(rng, values.Length, 5))
            {
                double At(double t)
                {
                    var v = p.Value.AsSpan<double>();
                    v[i] = original[i] + t;
                    double l = Loss(input);
                    v[i] = original[i];
                    return l;
                }
                double entry = Numerics.Derivative(At);
                Assert.That(Math.Abs(grad[i] - entry), Is.LessThanOrEqualTo(1e-9 + 1e-6 * Math.Abs(entry)), $"{c.Name}: {p.Name}[{i}]");
            }
        }

        // the input gradient, every coordinate
        var inputGrad = input.Grad!.ToDoubleArray();
        var fd = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int at = i;
            fd[i] = Numerics.Derivative(t =>
            {
                var xs = input.AsSpan<double>();
                xs[at] = x[at] + t;
                double l = Loss(input);
                xs[at] = x[at];
                return l;
            });
        }
        Numerics.AssertGradient(inputGrad, fd, 1e-6, $"{c.Name}: input");
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
        Numerics.AssertGradient(xt.Grad!.ToDoubleArray(), dx, 1e-6);
        Numerics.AssertGradient(tt.Grad!.ToDoubleArray(), dt, 1e-6);
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
        // read each hidden unit through fc2 (its first row set to select unit j, the rest zero) with the mask of one
        // fixed step: training gives exactly 0 or h·(1/(1 − 0.25)), eval gives h itself
        var w2 = model.Parameter("fc2.weight").Value.AsSpan<double>();
        var b2 = model.Parameter("fc2.bias").Value.AsSpan<double>();
        w2.Clear();
        b2.Clear();
        double keep = 1 / (1 - 0.25);
        int dropped = 0, alive = 0;
        for (int j = 0; j < 32; j++)
        {
            w2 = model.Parameter("fc2.weight").Value.AsSpan<double>();
            w2.Clear();
            w2[j] = 1;
            model.Eval();
            var h = model.Run(x).ToDoubleArray();
            model.Train();
            model.Step = 7;
            var t = model.Run(x).ToDoubleArray();
            for (int r = 0; r < 64; r++)
            {
                double hv = h[r * 3], tv = t[r * 3];
                if (hv == 0) continue; // a ReLU-dead unit says nothing about its mask
                alive++;
                if (tv == 0) dropped++;
                else Assert.That(tv, Is.EqualTo(hv * keep), $"row {r}, unit {j}: a kept unit is scaled by exactly 1/(1 − p)");
            }
        }
        Assert.That(alive, Is.GreaterThan(500));
        Assert.That(dropped / (double)alive, Is.InRange(0.15, 0.35), $"about p = 0.25 of the units are dropped ({dropped} of {alive})");
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
