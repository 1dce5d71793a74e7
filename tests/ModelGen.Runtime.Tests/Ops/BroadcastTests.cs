using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

[Model] public partial class BroadcastAddOp { Tensor Forward(Tensor a, Tensor b) => a + b; }
[Model] public partial class BroadcastSubOp { Tensor Forward(Tensor a, Tensor b) => a - b; }
[Model] public partial class BroadcastMulOp { Tensor Forward(Tensor a, Tensor b) => a * b; }
[Model] public partial class BroadcastDivOp { Tensor Forward(Tensor a, Tensor b) => a / b; }
[Model] public partial class BroadcastMaximumOp { Tensor Forward(Tensor a, Tensor b) => Maximum(a, b); }
[Model] public partial class BroadcastMinimumOp { Tensor Forward(Tensor a, Tensor b) => Minimum(a, b); }

/// <summary>Five operands: more than one fused kernel may read (Fuser.MaxOperands), so the chain is cut in two.</summary>
[Model] public partial class FiveOperandOp { Tensor Forward(Tensor a, Tensor b, Tensor c, Tensor d, Tensor e) => a * b + c * d - e; }

/// <summary>
/// NumPy broadcasting in compiled element-wise ops: the forward against a float64 reference that maps every output
/// index to each operand's (written here, independently of the runtime's layout), float32 against float64, and each
/// operand's float64 gradient — summed over its broadcast copies — against central finite differences element by
/// element; shapes with 1, 3, 17 and 257, broadcasts in leading, middle and last dimensions, a scalar tensor, a fused
/// chain of three operands, and a large bias-like case that splits the work across threads.
/// </summary>
public class BroadcastTests
{
    public sealed record Op(string Name, Func<Device, DType, Module> Create, Func<double, double, double> Reference)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Op> Ops() =>
    [
        new("+", (d, t) => new BroadcastAddOp(d, 0, t), (a, b) => a + b),
        new("-", (d, t) => new BroadcastSubOp(d, 0, t), (a, b) => a - b),
        new("*", (d, t) => new BroadcastMulOp(d, 0, t), (a, b) => a * b),
        new("/", (d, t) => new BroadcastDivOp(d, 0, t), (a, b) => a / b),
        new("Maximum", (d, t) => new BroadcastMaximumOp(d, 0, t), Math.Max),
        new("Minimum", (d, t) => new BroadcastMinimumOp(d, 0, t), Math.Min),
    ];

    public static IEnumerable<int[][]> ShapePairs() =>
    [
        [[3, 1, 5], [4, 5]],
        [[4, 5], [3, 1, 5]],
        [[2, 3, 4], [4]],
        [[2, 1], [1, 3]],
        [[5], []],
        [[], [1, 3]],
        [[1], [17]],
        [[17, 3], [17, 1]],
        [[2, 1, 17, 1], [3, 1, 3]],
        [[257, 3], [3]],
        [[3, 257], [3, 1]],
        [[2, 3], [2, 3]],
    ];

    /// <summary>The output shape and, per output element, the flat index of each operand (NumPy's rule, by coordinates).</summary>
    internal static (int[] Shape, int[][] Index) Broadcast(params int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var padded = shapes.Select(s => Enumerable.Repeat(1, rank - s.Length).Concat(s).ToArray()).ToArray();
        var outShape = Enumerable.Range(0, rank).Select(d => padded.Max(p => p[d])).ToArray();
        int count = outShape.Aggregate(1, (x, y) => x * y);
        var index = shapes.Select(_ => new int[count]).ToArray();
        var coordinate = new int[rank];
        for (int i = 0; i < count; i++)
        {
            int rest = i;
            for (int d = rank - 1; d >= 0; d--)
            {
                coordinate[d] = rest % outShape[d];
                rest /= outShape[d];
            }
            for (int e = 0; e < shapes.Length; e++)
            {
                int flat = 0;
                for (int d = 0; d < rank; d++) flat = flat * padded[e][d] + (padded[e][d] == 1 ? 0 : coordinate[d]);
                index[e][i] = flat;
            }
        }
        return (outShape, index);
    }

    private static double[] Values(int count, int seed, bool awayFromZero)
    {
        var v = Numerics.Randn(new Random(seed), count, 2);
        return awayFromZero ? v.Select(x => x >= 0 ? x + 0.5 : x - 0.5).ToArray() : v;
    }

    private static double[] RunModel(Module model, DType dtype, int[][] shapes, double[][] inputs, double[]? gy, int[] outShape, double[][]? grads)
    {
        dynamic m = model;
        var tensors = shapes.Select((s, e) => Tensor.From<double>(inputs[e], new Shape(s), dtype)).ToArray();
        try
        {
            foreach (var t in tensors) t.RequiresGrad = gy is not null;
            Tensor y = tensors.Length == 2 ? m.Run(tensors[0], tensors[1]) : m.Run(tensors[0], tensors[1], tensors[2]);
            Assert.That(y.Shape, Is.EqualTo(new Shape(outShape)), "output shape");
            var values = y.ToDoubleArray();
            if (gy is not null)
            {
                using var g = Tensor.From<double>(gy, new Shape(outShape), dtype);
                m.Backward(g);
                for (int e = 0; e < tensors.Length; e++) grads![e] = tensors[e].Grad!.ToDoubleArray();
            }
            return values;
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    [Test]
    public void ForwardAndBackward_MatchTheReferenceAndFiniteDifferences([ValueSource(nameof(Ops))] Op op, [ValueSource(nameof(ShapePairs))] int[][] shapes)
    {
        var (outShape, index) = Broadcast(shapes);
        int count = outShape.Aggregate(1, (x, y) => x * y);
        var inputs = shapes.Select((s, e) => Values(s.Aggregate(1, (x, y) => x * y), 11 + e + s.Sum(), awayFromZero: e == 1)).ToArray();
        var gy = Numerics.Randn(new Random(5), count);
        double[] Reference(double[] a, double[] b) => Enumerable.Range(0, count).Select(i => op.Reference(a[index[0][i]], b[index[1][i]])).ToArray();

        using var model = op.Create(Device.Cpu, DType.Float64);
        var grads = new double[2][];
        var y = RunModel(model, DType.Float64, shapes, inputs, gy, outShape, grads);
        var expected = Reference(inputs[0], inputs[1]);
        for (int i = 0; i < count; i++)
            Assert.That(y[i], Is.EqualTo(expected[i]).Within(1e-13 + 1e-12 * Math.Abs(expected[i])), $"{op.Name} {Format(shapes)}: forward [{i}]");

        // each operand's gradient against finite differences of the reference (at most 40 seeded coordinates each)
        var rng = new Random(3);
        for (int e = 0; e < 2; e++)
        {
            int n = inputs[e].Length;
            var coordinates = n <= 40 ? Enumerable.Range(0, n).ToArray() : Enumerable.Range(0, 40).Select(_ => rng.Next(n)).Distinct().ToArray();
            int operand = e;
            var numeric = Numerics.FiniteDifferenceVjp(x => operand == 0 ? Reference(x, inputs[1]) : Reference(inputs[0], x), inputs[e], gy, coordinates);
            Numerics.AssertGradient(coordinates.Select(i => grads[e][i]).ToArray(), coordinates.Select(i => numeric[i]).ToArray(),
                what: $"{op.Name} {Format(shapes)}: d(operand {e})");
        }

        using var model32 = op.Create(Device.Cpu, DType.Float32);
        var rounded = inputs.Select(v => v.Select(x => (double)(float)x).ToArray()).ToArray();
        var y32 = RunModel(model32, DType.Float32, shapes, rounded, null, outShape, null);
        var y64 = Reference(rounded[0], rounded[1]);
        for (int i = 0; i < count; i++)
            Assert.That(y32[i], Is.EqualTo(y64[i]).Within(1e-6 * (1 + Math.Abs(y64[i]))), $"{op.Name} {Format(shapes)}: float32 forward [{i}]");
    }

    [Test]
    public void FusedChainOfThreeShapes_IsOneKernel_AndItsGradientsMatchFiniteDifferences()
    {
        int[][] shapes = [[4, 1, 5], [3, 5], [5]];
        var (outShape, index) = Broadcast(shapes);
        int count = outShape.Aggregate(1, (x, y) => x * y);
        var inputs = shapes.Select((s, e) => Values(s.Aggregate(1, (x, y) => x * y), 40 + e, false)).ToArray();
        var gy = Numerics.Randn(new Random(8), count);
        static double F(double a, double b, double c) => 1 / (1 + Math.Exp(-(a * b + c))) - a / (c * c + 1);
        double[] Reference(double[][] v) => Enumerable.Range(0, count).Select(i => F(v[0][index[0][i]], v[1][index[1][i]], v[2][index[2][i]])).ToArray();

        using var model = new BroadcastChainOp(Device.Cpu, 0, DType.Float64);
        var grads = new double[3][];
        Cpu.KernelStats.Start();
        var y = RunModel(model, DType.Float64, shapes, inputs, gy, outShape, grads);
        Assert.That(Cpu.KernelStats.Stop().Keys.Count(k => k.StartsWith("elementwise", StringComparison.Ordinal) && !k.EndsWith("backward", StringComparison.Ordinal)), Is.EqualTo(1),
            "the whole chain runs as one kernel");
        var expected = Reference(inputs);
        for (int i = 0; i < count; i++) Assert.That(y[i], Is.EqualTo(expected[i]).Within(1e-13), $"forward [{i}]");
        for (int e = 0; e < 3; e++)
        {
            int operand = e;
            var numeric = Numerics.FiniteDifferenceVjp(x => Reference(inputs.Select((v, k) => k == operand ? x : v).ToArray()), inputs[e], gy, Enumerable.Range(0, inputs[e].Length));
            Numerics.AssertGradient(grads[e], numeric, what: $"d(operand {e})");
        }
    }

    /// <summary>A transformer-sized bias and a scalar against a long vector: the forward splits its parts over the threads
    /// and the reduction of the broadcast gradient splits its inner block; float32 against a float64 reference.</summary>
    [TestCase(new[] { 64, 128, 384 }, new[] { 384 })]
    [TestCase(new[] { 64, 128, 384 }, new[] { 64, 1, 384 })]
    [TestCase(new[] { 64, 128, 384 }, new[] { 64, 128, 1 })]
    [TestCase(new[] { 100_003 }, new int[0])]
    public void RealisticSizes_Float32MatchesFloat64(int[] aShape, int[] bShape)
    {
        int[][] shapes = [aShape, bShape];
        var (outShape, index) = Broadcast(shapes);
        int count = outShape.Aggregate(1, (x, y) => x * y);
        var inputs = shapes.Select((s, e) => Values(s.Aggregate(1, (x, y) => x * y), 70 + e, e == 1).Select(v => (double)(float)v).ToArray()).ToArray();
        var gy = Numerics.Randn(new Random(9), count).Select(v => (double)(float)v).ToArray();
        using var model = new BroadcastMulOp(Device.Cpu, 0, DType.Float32);
        var grads = new double[2][];
        var y = RunModel(model, DType.Float32, shapes, inputs, gy, outShape, grads);
        for (int i = 0; i < count; i += 97)
        {
            double expected = inputs[0][index[0][i]] * inputs[1][index[1][i]];
            Assert.That(y[i], Is.EqualTo(expected).Within(1e-6 * (1 + Math.Abs(expected))), $"forward [{i}]");
        }
        var db = new double[inputs[1].Length];
        for (int i = 0; i < count; i++) db[index[1][i]] += gy[i] * inputs[0][index[0][i]];
        double scale = Math.Sqrt(count / (double)db.Length) * 3;
        for (int j = 0; j < db.Length; j++)
            Assert.That(grads[1][j], Is.EqualTo(db[j]).Within(1e-5 * scale), $"d(operand 1)[{j}] (a sum over {count / db.Length} copies)");
        for (int i = 0; i < count; i += 101)
            Assert.That(grads[0][i], Is.EqualTo(gy[i] * inputs[1][index[1][i]]).Within(1e-6 * (1 + Math.Abs(grads[0][i]))), $"d(operand 0)[{i}]");
    }

    [Test]
    public void ShapesThatDoNotBroadcast_AreARuntimeErrorNamingBothShapesAndTheDimension()
    {
        using var model = new BroadcastAddOp(Device.Cpu, 0);
        using var a = Tensor.Zeros(2, 3, 4);
        using var b = Tensor.Zeros(3, 5);
        var e = Assert.Throws<ShapeMismatchException>(() => model.Run(a, b))!;
        Assert.That(e.Message, Does.Contain("'+'").And.Contain("[2, 3, 4]").And.Contain("[3, 5]").And.Contain("dimension -1 is 4"));
    }

    [Test]
    public void GradientsAccumulateOverTwoBackwardCalls_ForBroadcastOperands()
    {
        using var model = new BroadcastMulOp(Device.Cpu, 0, DType.Float64);
        using var a = Tensor.From<double>([1, 2, 3, 4, 5, 6], new Shape(2, 3), DType.Float64);
        using var b = Tensor.From<double>([10, 20, 30], new Shape(3), DType.Float64);
        a.RequiresGrad = b.RequiresGrad = true;
        using var g = Tensor.From<double>([1, 1, 1, 1, 1, 1], new Shape(2, 3), DType.Float64);
        model.Run(a, b);
        model.Backward(g);
        model.Run(a, b);
        model.Backward(g);
        Assert.That(b.Grad!.ToDoubleArray(), Is.EqualTo(new double[] { 2 * (1 + 4), 2 * (2 + 5), 2 * (3 + 6) }));
        Assert.That(a.Grad!.ToDoubleArray(), Is.EqualTo(new double[] { 20, 40, 60, 20, 40, 60 }));
    }

    [Test]
    public void FiveOperands_SplitIntoKernelsOfAtMostFour_AndStayCorrect()
    {
        using var model = new FiveOperandOp(Device.Cpu, 0, DType.Float64);
        int[][] shapes = [[2, 3], [3], [2, 1], [1, 3], []];
        var inputs = shapes.Select((s, k) => Tensor.From<double>(Values(s.Aggregate(1, (x, y) => x * y), 90 + k, false), new Shape(s), DType.Float64)).ToArray();
        try
        {
            Cpu.KernelStats.Start();
            var y = model.Run(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]).ToDoubleArray();
            Assert.That(Cpu.KernelStats.Stop().Keys.Count(k => k.StartsWith("elementwise", StringComparison.Ordinal)), Is.EqualTo(2));
            var (_, index) = Broadcast(shapes);
            var v = inputs.Select(t => t.ToDoubleArray()).ToArray();
            for (int i = 0; i < 6; i++)
                Assert.That(y[i], Is.EqualTo(v[0][index[0][i]] * v[1][index[1][i]] + v[2][index[2][i]] * v[3][index[3][i]] - v[4][0]).Within(1e-14));
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
        }
    }

    private static string Format(int[][] shapes) => string.Join(" with ", shapes.Select(s => "[" + string.Join(", ", s) + "]"));
}
