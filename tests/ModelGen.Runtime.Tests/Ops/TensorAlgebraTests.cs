using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

[Model] public partial class MatMulOp { Tensor Forward(Tensor a, Tensor b) => MatMul(a, b); }
[Model] public partial class TransposeOp { Tensor Forward(Tensor x) => Transpose(x, 0, -1); }
[Model] public partial class PermuteOp { Tensor Forward(Tensor x) => Permute(x, 2, 0, 1); }
[Model] public partial class SumDimOp { Tensor Forward(Tensor x) => Sum(x, 1); }
[Model] public partial class MeanKeepDimOp { Tensor Forward(Tensor x) => Mean(x, -1, keepDim: true); }
[Model] public partial class MaxDimOp { Tensor Forward(Tensor x) => Max(x, 0); }
[Model] public partial class MinDimOp { Tensor Forward(Tensor x) => Min(x, -2); }
[Model] public partial class VarDimOp { Tensor Forward(Tensor x) => Var(x, 1); }
[Model] public partial class VarBiasedOp { Tensor Forward(Tensor x) => Var(x, -1, keepDim: true, unbiased: false); }
[Model] public partial class LogSumExpDimOp { Tensor Forward(Tensor x) => LogSumExp(x, 1); }
[Model] public partial class SoftmaxDimOp { Tensor Forward(Tensor x) => Softmax(x, 0); }
[Model] public partial class LogSoftmaxDimOp { Tensor Forward(Tensor x) => LogSoftmax(x, 1); }

/// <summary>
/// The tensor-algebra ops compiled inside Forward: each generated forward in float64 against the float64 references
/// of tests/ModelGen.Runtime.Tests/Reference/TensorOpsReference.cs and in float32 against float64, and the generated
/// float64 backward against central finite differences element by element, at sizes 1, 3, 17 and 257 (a seeded sample
/// of coordinates beyond 300 elements); then whole models: self-attention written out with a [Parameter] position table
/// and a padding mask, and all reductions in one graph.
/// </summary>
public class TensorAlgebraTests
{
    public sealed record UnaryCase(string Name, Func<Device, DType, Module> Create, Func<double[], int[], (double[] Y, int[] Shape)> Reference)
    {
        public override string ToString() => Name;
    }

    private static (double[], int[]) Reduce(double[] x, int[] s, int dim, bool keep, Func<double[], double> f)
    {
        int d = dim < 0 ? dim + s.Length : dim;
        var shape = keep ? s.Select((v, i) => i == d ? 1 : v).ToArray() : s.Where((_, i) => i != d).ToArray();
        return (TensorRef.Reduce(x, s, d, f), shape);
    }

    public static IEnumerable<UnaryCase> UnaryCases() =>
    [
        new("Transpose(x, 0, -1)", (d, t) => new TransposeOp(d, 0, t), (x, s) => TensorRef.Permute(x, s, [2, 1, 0])),
        new("Permute(x, 2, 0, 1)", (d, t) => new PermuteOp(d, 0, t), (x, s) => TensorRef.Permute(x, s, [2, 0, 1])),
        new("Sum(x, 1)", (d, t) => new SumDimOp(d, 0, t), (x, s) => Reduce(x, s, 1, false, TensorRef.Sum)),
        new("Mean(x, -1, keepDim: true)", (d, t) => new MeanKeepDimOp(d, 0, t), (x, s) => Reduce(x, s, -1, true, TensorRef.Mean)),
        new("Max(x, 0)", (d, t) => new MaxDimOp(d, 0, t), (x, s) => Reduce(x, s, 0, false, v => v.Max())),
        new("Min(x, -2)", (d, t) => new MinDimOp(d, 0, t), (x, s) => Reduce(x, s, -2, false, v => v.Min())),
        new("Var(x, 1)", (d, t) => new VarDimOp(d, 0, t), (x, s) => Reduce(x, s, 1, false, v => TensorRef.Var(v, true))),
        new("Var(x, -1, keepDim: true, unbiased: false)", (d, t) => new VarBiasedOp(d, 0, t), (x, s) => Reduce(x, s, -1, true, v => TensorRef.Var(v, false))),
        new("LogSumExp(x, 1)", (d, t) => new LogSumExpDimOp(d, 0, t), (x, s) => Reduce(x, s, 1, false, TensorRef.LogSumExp)),
        new("Softmax(x, 0)", (d, t) => new SoftmaxDimOp(d, 0, t), (x, s) => (TensorRef.MapSlices(x, s, 0, v => TensorRef.Softmax(v, false)), s)),
        new("LogSoftmax(x, 1)", (d, t) => new LogSoftmaxDimOp(d, 0, t), (x, s) => (TensorRef.MapSlices(x, s, 1, v => TensorRef.Softmax(v, true)), s)),
    ];

    /// <summary>Rank-3 shapes whose dims take the sizes 1, 3, 17 and 257 (Var of a single element is NaN, as in PyTorch, so its dim has 2 or more).</summary>
    public static IEnumerable<int[]> Shapes() => [[2, 3, 4], [1, 3, 1], [3, 17, 2], [2, 257, 3], [257, 2, 3]];

    private static double[] RunUnary(UnaryCase c, DType dtype, double[] x, int[] shape, double[]? gy, out int[] outShape, out double[]? dx)
    {
        using var model = c.Create(Device.Cpu, dtype);
        using var input = Tensor.From<double>(x, new Shape(shape), dtype);
        input.RequiresGrad = gy is not null;
        var y = ((IModel)model).Run(input);
        outShape = y.Shape.Dims.ToArray();
        var values = y.ToDoubleArray();
        dx = null;
        if (gy is not null)
        {
            using var g = Tensor.From<double>(gy, y.Shape, dtype);
            ((dynamic)model).Backward(g);
            dx = input.Grad!.ToDoubleArray();
        }
        return values;
    }

    [Test]
    public void UnaryOps_MatchTheReferences_AndFiniteDifferences([ValueSource(nameof(UnaryCases))] UnaryCase c, [ValueSource(nameof(Shapes))] int[] shape)
    {
        var rng = new Random(shape.Sum());
        var x = Numerics.Randn(rng, TensorRef.Count(shape));
        if (c.Name.StartsWith("Var(x, 1)", StringComparison.Ordinal) && shape[1] == 1)
        {
            // the unbiased variance of one element divides 0 by n − 1 = 0: NaN, as in PyTorch
            Assert.That(RunUnary(c, DType.Float64, x, shape, null, out _, out _), Is.All.NaN);
            return;
        }
        var (expected, expectedShape) = c.Reference(x, shape);
        var gy = Numerics.Randn(new Random(5), expected.Length);
        var y = RunUnary(c, DType.Float64, x, shape, gy, out var outShape, out var dx);
        Assert.That(outShape, Is.EqualTo(expectedShape), $"{c.Name}: shape");
        TensorRef.AssertClose(y, expected, 1e-12, $"{c.Name}: float64 forward");
        TensorRef.AssertGradient(v => RunUnary(c, DType.Float64, v, shape, null, out _, out _), x, gy, dx!, TensorRef.Coordinates(x.Length, 3), $"{c.Name}: dx");
        var rounded = x.Select(v => (double)(float)v).ToArray();
        var y32 = RunUnary(c, DType.Float32, rounded, shape, null, out _, out _);
        TensorRef.AssertClose(y32, c.Reference(rounded, shape).Y, 1e-5, $"{c.Name}: float32 forward", atol: 1e-6);
    }

    public static IEnumerable<int[][]> MatMulShapes() =>
    [
        [[3], [3]], [[4], [4, 3]], [[2, 3, 4], [4]], [[1, 1], [1, 1]], [[3, 17], [17, 3]], [[3, 1, 5, 4], [2, 4, 6]],
        [[2, 257], [257, 3]], [[4, 3, 8], [4, 8, 3]], [[17, 2, 3], [3, 1]],
    ];

    [Test]
    public void MatMul_MatchesTheReference_AndFiniteDifferences([ValueSource(nameof(MatMulShapes))] int[][] shapes)
    {
        var rng = new Random(shapes.Sum(s => s.Sum()));
        var a = Numerics.Randn(rng, TensorRef.Count(shapes[0]));
        var b = Numerics.Randn(rng, TensorRef.Count(shapes[1]));
        var (expected, expectedShape) = TensorRef.MatMul(a, shapes[0], b, shapes[1]);
        var gy = Numerics.Randn(new Random(9), expected.Length);
        double[] Run(DType dtype, double[] av, double[] bv, double[]? g, out double[]? da, out double[]? db, out int[] shape)
        {
            using var model = new MatMulOp(Device.Cpu, 0, dtype);
            using var ta = Tensor.From<double>(av, new Shape(shapes[0]), dtype);
            using var tb = Tensor.From<double>(bv, new Shape(shapes[1]), dtype);
            ta.RequiresGrad = tb.RequiresGrad = g is not null;
            var y = model.Run(ta, tb);
            shape = y.Shape.Dims.ToArray();
            var values = y.ToDoubleArray();
            da = db = null;
            if (g is not null)
            {
                using var gt = Tensor.From<double>(g, y.Shape, dtype);
                model.Backward(gt);
                da = ta.Grad!.ToDoubleArray();
                db = tb.Grad!.ToDoubleArray();
            }
            return values;
        }
        var y = Run(DType.Float64, a, b, gy, out var da, out var db, out var outShape);
        Assert.That(outShape, Is.EqualTo(expectedShape));
        TensorRef.AssertClose(y, expected, 1e-12, "float64 forward");
        TensorRef.AssertGradient(v => Run(DType.Float64, v, b, null, out _, out _, out _), a, gy, da!, TensorRef.Coordinates(a.Length, 1), "da");
        TensorRef.AssertGradient(v => Run(DType.Float64, a, v, null, out _, out _, out _), b, gy, db!, TensorRef.Coordinates(b.Length, 2), "db");
        var a32 = a.Select(v => (double)(float)v).ToArray();
        var b32 = b.Select(v => (double)(float)v).ToArray();
        TensorRef.AssertClose(Run(DType.Float32, a32, b32, null, out _, out _, out _), TensorRef.MatMul(a32, shapes[0], b32, shapes[1]).Y, 1e-5, "float32 forward", atol: 1e-5);
    }

    [Test]
    public void ShapeErrors_AreRuntimeErrorsNamingTheOp()
    {
        using var matmul = new MatMulOp(Device.Cpu, 0);
        using var a = Tensor.Zeros(2, 3);
        using var b = Tensor.Zeros(4, 5);
        Assert.That(Assert.Throws<ShapeMismatchException>(() => matmul.Run(a, b))!.Message, Does.Contain("MatMul").And.Contain("3").And.Contain("4"));
        using var sum = new SumDimOp(Device.Cpu, 0);
        using var v = Tensor.Zeros(5);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => ((IModel)sum).Run(v))!.Message, Does.Contain("dim 1").And.Contain("rank 1"));
    }

    [Test]
    public void WrittenAttention_GradientsMatchFiniteDifferences_AndPaddedKeysGetNoWeight()
    {
        using var model = new WrittenAttention(Device.Cpu, 3, DType.Float64);
        var rng = new Random(4);
        using var x = Tensor.From<double>(Numerics.Randn(rng, 2 * 6 * 8), new Shape(2, 6, 8), DType.Float64);
        // example 0 attends to all 6 positions, example 1 to its first 4
        using var mask = Tensor.From<double>([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], new Shape(2, 1, 6), DType.Float64);
        using var target = Tensor.From<double>(Numerics.Randn(rng, 2 * 6 * 3), new Shape(2, 6, 3), DType.Float64);
        x.RequiresGrad = true;
        double Loss() => model.Mse(x, mask, target);
        model.ZeroGrad();
        Loss();
        model.Backward();
        Numerics.AssertDirectionalDerivatives(model, Loss, new Random(6));
        Assert.That(model.Parameters.Select(p => p.Name), Does.Contain("positions"));

        // padding: changing a padded position's input does not change the other positions' outputs of that example
        var before = model.Run(x, mask).ToDoubleArray();
        var xs = x.AsSpan<double>();
        for (int f = 0; f < 8; f++) xs[(1 * 6 + 5) * 8 + f] += 3;
        var after = model.Run(x, mask).ToDoubleArray();
        for (int t = 0; t < 5; t++)
            for (int j = 0; j < 3; j++)
                Assert.That(after[(6 + t) * 3 + j], Is.EqualTo(before[(6 + t) * 3 + j]).Within(1e-12), $"example 1, position {t}");
    }

    [Test]
    public void TiedLanguageModelHead_GradientsOfTheSharedWeightSumBothUses()
    {
        using var model = new TiedLanguageModel(Device.Cpu, 2, DType.Float64);
        Assert.That(model.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "wte.weight", "mix.weight", "mix.bias" }), "the tied weight is one parameter");
        using var ids = Tensor.From<double>([3, 0, 10, 7, 7, 1], new Shape(2, 3), DType.Int64);
        using var target = Tensor.From<double>(Numerics.Randn(new Random(3), 2 * 3 * 11), new Shape(2, 3, 11), DType.Float64);
        double Loss() => model.Mse(ids, target);
        Assert.That(model.Run(ids).Shape, Is.EqualTo(new Shape(2, 3, 11)));
        model.ZeroGrad();
        Loss();
        model.Backward();
        Numerics.AssertDirectionalDerivatives(model, Loss, new Random(8));
        // rows of ids never looked up still get a gradient, through the head
        var grad = model.Parameter("wte.weight").Grad.ToDoubleArray();
        Assert.That(Enumerable.Range(0, 6).Any(j => grad[5 * 6 + j] != 0), "row 5 (never an input id) is trained through the tied head");
    }

    [Test]
    public void AllReductionsInOneGraph_MatchFiniteDifferences()
    {
        using var model = new Reductions(Device.Cpu, 0, DType.Float64);
        var x = Numerics.Randn(new Random(12), 2 * 3 * 4);
        var gy = Numerics.Randn(new Random(13), 2 * 4);
        double[] Run(double[] v, double[]? g, out double[]? dx)
        {
            using var t = Tensor.From<double>(v, new Shape(2, 3, 4), DType.Float64);
            t.RequiresGrad = g is not null;
            var y = ((IModel)model).Run(t).ToDoubleArray();
            dx = null;
            if (g is not null)
            {
                using var gt = Tensor.From<double>(g, new Shape(2, 4), DType.Float64);
                model.Backward(gt);
                dx = t.Grad!.ToDoubleArray();
            }
            return y;
        }
        var y = Run(x, gy, out var dx);
        int[] s = [2, 3, 4];
        var sum = TensorRef.Reduce(x, s, 1, TensorRef.Sum);
        var mean = TensorRef.Reduce(x, s, 1, TensorRef.Mean);
        var max = TensorRef.Reduce(x, s, 1, v => v.Max());
        var min = TensorRef.Reduce(x, s, 1, v => v.Min());
        var var1 = TensorRef.Reduce(x, s, 1, v => TensorRef.Var(v, true));
        var var0 = TensorRef.Reduce(x, s, 1, v => TensorRef.Var(v, false));
        var lse = TensorRef.Reduce(x, s, 1, TensorRef.LogSumExp);
        var logSoftmax = TensorRef.MapSlices(x, s, 1, v => TensorRef.Softmax(v, true));
        var lsSum = TensorRef.Reduce(logSoftmax, s, 1, TensorRef.Sum);
        var expected = Enumerable.Range(0, 8).Select(i => sum[i] * 0.5 + mean[i] - max[i] + min[i] * var1[i] + lse[i] + lsSum[i] + var0[i]).ToArray();
        TensorRef.AssertClose(y, expected, 1e-12, "forward");
        TensorRef.AssertGradient(v => Run(v, null, out _), x, gy, dx!, TensorRef.Coordinates(x.Length, 1), "dx");
    }
}
