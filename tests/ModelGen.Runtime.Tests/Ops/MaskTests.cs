using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// Comparisons, Where and MaskedFill compiled inside Forward, and the dtypes of Forward inputs: each comparison with
/// broadcasting and ties against a reference (1 where it holds, else 0), Where and MaskedFill forward against a float64
/// reference and their float64 gradients against central finite differences element by element at 1, 3, 17 and 257,
/// float32 against float64, self-attention written out with a Bool padding mask, integer ids (Int32 and Int64 alike,
/// floats refused by name), and Bool inputs promoted where they are used as numbers.
/// </summary>
public class MaskTests
{
    public sealed record Comparison(string Name, Func<Device, DType, Module> Create, Func<double, double, bool> Reference)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<Comparison> Comparisons() =>
    [
        new(">", (d, t) => new GtOp(d, 0, t), (a, b) => a > b),
        new("<", (d, t) => new LtOp(d, 0, t), (a, b) => a < b),
        new(">=", (d, t) => new GeOp(d, 0, t), (a, b) => a >= b),
        new("<=", (d, t) => new LeOp(d, 0, t), (a, b) => a <= b),
        new("Eq", (d, t) => new EqOp(d, 0, t), (a, b) => a == b),
        new("Ne", (d, t) => new NeOp(d, 0, t), (a, b) => a != b),
    ];

    public static IEnumerable<int[][]> ShapePairs() => [[[3, 1, 5], [4, 5]], [[1], [17]], [[257, 3], [3]], [[2, 3], [2, 3]], [[17, 3], [17, 1]]];

    /// <summary>Small integers, so that ties (equal elements) are frequent.</summary>
    private static double[] Ties(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (double)rng.Next(-2, 3)).ToArray();
    }

    private static int Count(int[] shape) => shape.Aggregate(1, (x, y) => x * y);

    [Test]
    public void Comparisons_MatchTheReference_WithBroadcastingAndTies([ValueSource(nameof(Comparisons))] Comparison c, [ValueSource(nameof(ShapePairs))] int[][] shapes)
    {
        var (outShape, index) = BroadcastTests.Broadcast(shapes);
        var a = Ties(Count(shapes[0]), 3);
        var b = Ties(Count(shapes[1]), 4);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            using var model = c.Create(Device.Cpu, dtype);
            using var ta = Tensor.From<double>(a, new Shape(shapes[0]), dtype);
            using var tb = Tensor.From<double>(b, new Shape(shapes[1]), dtype);
            var y = ((dynamic)model).Run(ta, tb);
            Assert.That(((Tensor)y).Shape, Is.EqualTo(new Shape(outShape)));
            double[] values = ((Tensor)y).ToDoubleArray();
            for (int i = 0; i < values.Length; i++)
                Assert.That(values[i], Is.EqualTo(c.Reference(a[index[0][i]], b[index[1][i]]) ? 1 : 0), $"{c.Name} {dtype} [{i}]");
        }
    }

    [Test]
    public void ScalarComparisons_EitherSide_AndNaN()
    {
        double[] x = [-2, -1, 0, 0.25, 0.5, 0.75, 1, 2, 3, double.NaN, 17];
        using var model = new ScalarComparisonsOp(Device.Cpu, 0, DType.Float64);
        using var t = Tensor.From<double>(x, new Shape(x.Length), DType.Float64);
        var y = model.Run(t).ToDoubleArray();
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double expected = (v > 0.25 ? 1 : 0) + 2 * (0.5 < v ? 1 : 0) + 4 * (v <= -1 ? 1 : 0) + 8 * (v == 0 ? 1 : 0) + 16 * (v != 1 ? 1 : 0) + 32 * (v >= 2 ? 1 : 0);
            Assert.That(y[i], Is.EqualTo(expected), $"x = {v}");
        }
    }

    public static IEnumerable<int> Sizes() => [1, 3, 17, 257];

    [Test]
    public void WhereOfAComparison_MatchesTheReference_AndFiniteDifferences([ValueSource(nameof(Sizes))] int n)
    {
        int[][] shapes = [[n, 1, 3], [2, 3]];
        var (outShape, index) = BroadcastTests.Broadcast(shapes);
        int count = Count(outShape);
        var rng = new Random(n);
        // values kept away from the switch a = b, where the function jumps
        var a = Numerics.Randn(rng, Count(shapes[0]));
        var b = Numerics.Randn(rng, Count(shapes[1])).Select(v => v + 0.01).ToArray();
        double[] Reference(double[] av, double[] bv) => Enumerable.Range(0, count).Select(i =>
        {
            double p = av[index[0][i]], q = bv[index[1][i]];
            return p > q ? p * q : q - p;
        }).ToArray();
        var gy = Numerics.Randn(new Random(7), count);
        using var model = new WhereCompareOp(Device.Cpu, 0, DType.Float64);
        using var ta = Tensor.From<double>(a, new Shape(shapes[0]), DType.Float64);
        using var tb = Tensor.From<double>(b, new Shape(shapes[1]), DType.Float64);
        ta.RequiresGrad = tb.RequiresGrad = true;
        var y = model.Run(ta, tb).ToDoubleArray();
        var expected = Reference(a, b);
        for (int i = 0; i < count; i++) Assert.That(y[i], Is.EqualTo(expected[i]).Within(1e-14), $"forward [{i}]");
        using var g = Tensor.From<double>(gy, new Shape(outShape), DType.Float64);
        model.Backward(g);
        var coordinates = a.Length <= 40 ? Enumerable.Range(0, a.Length).ToArray() : Enumerable.Range(0, 40).Select(_ => rng.Next(a.Length)).Distinct().ToArray();
        var numericA = Numerics.FiniteDifferenceVjp(x => Reference(x, b), a, gy, coordinates);
        var da = ta.Grad!.ToDoubleArray();
        Numerics.AssertGradient(coordinates.Select(i => da[i]).ToArray(), coordinates.Select(i => numericA[i]).ToArray(), what: "da");
        var numericB = Numerics.FiniteDifferenceVjp(x => Reference(a, x), b, gy, Enumerable.Range(0, b.Length));
        Numerics.AssertGradient(tb.Grad!.ToDoubleArray(), numericB, what: "db");

        using var model32 = new WhereCompareOp(Device.Cpu, 0, DType.Float32);
        var a32 = a.Select(v => (double)(float)v).ToArray();
        var b32 = b.Select(v => (double)(float)v).ToArray();
        using var ta32 = Tensor.From<double>(a32, new Shape(shapes[0]), DType.Float32);
        using var tb32 = Tensor.From<double>(b32, new Shape(shapes[1]), DType.Float32);
        var y32 = model32.Run(ta32, tb32).ToDoubleArray();
        var e32 = Reference(a32, b32);
        for (int i = 0; i < count; i++) Assert.That(y32[i], Is.EqualTo(e32[i]).Within(1e-6 * (1 + Math.Abs(e32[i]))), $"float32 [{i}]");
    }

    [Test]
    public void WhereOfABoolInput_Broadcasts_AndRoutesTheGradient([ValueSource(nameof(Sizes))] int n)
    {
        int[][] shapes = [[n, 1], [n, 4], [4]];
        var (outShape, index) = BroadcastTests.Broadcast(shapes);
        int count = Count(outShape);
        var rng = new Random(11 + n);
        var condition = Enumerable.Range(0, n).Select(_ => rng.Next(2) == 1).ToArray();
        var a = Numerics.Randn(rng, n * 4);
        var b = Numerics.Randn(rng, 4);
        using var model = new WhereMaskOp(Device.Cpu, 0, DType.Float64);
        using var tc = Tensor.From<bool>(condition, new Shape(n, 1), DType.Bool);
        using var ta = Tensor.From<double>(a, new Shape(n, 4), DType.Float64);
        using var tb = Tensor.From<double>(b, new Shape(4), DType.Float64);
        ta.RequiresGrad = tb.RequiresGrad = true;
        var y = model.Run(tc, ta, tb).ToDoubleArray();
        var gy = Numerics.Randn(new Random(2), count);
        using var g = Tensor.From<double>(gy, new Shape(outShape), DType.Float64);
        model.Backward(g);
        var da = ta.Grad!.ToDoubleArray();
        var db = new double[4];
        for (int i = 0; i < count; i++)
        {
            bool c = condition[index[0][i]];
            Assert.That(y[i], Is.EqualTo(c ? a[index[1][i]] : b[index[2][i]]), $"forward [{i}]");
            Assert.That(da[index[1][i]], Is.EqualTo(c ? gy[i] : 0), $"da [{i}]");
            if (!c) db[index[2][i]] += gy[i];
        }
        Numerics.AssertGradient(tb.Grad!.ToDoubleArray(), db, normTolerance: 1e-12, what: "db (summed over its copies)");
        using var wrong = Tensor.From<double>(condition.Select(v => v ? 1.0 : 0.0).ToArray(), new Shape(n, 1), DType.Float64);
        var error = Assert.Throws<ArgumentException>(() => model.Run(wrong, ta, tb))!;
        Assert.That(error.Message, Does.Contain("'condition' is Where's condition and must be a Bool tensor, but it holds Float64"));
    }

    [Test]
    public void MaskedFill_BroadcastsTheMask_AndPassesNoGradientWhereItFills([ValueSource(nameof(Sizes))] int n)
    {
        var rng = new Random(20 + n);
        var x = Numerics.Randn(rng, 2 * n * 3);
        var mask = Enumerable.Range(0, 2 * 3).Select(_ => rng.Next(3) == 0).ToArray();
        using var model = new MaskedFillOp(Device.Cpu, 0, DType.Float64);
        using var tx = Tensor.From<double>(x, new Shape(2, n, 3), DType.Float64);
        using var tm = Tensor.From<bool>(mask, new Shape(2, 1, 3), DType.Bool);
        tx.RequiresGrad = true;
        var y = model.Run(tx, tm).ToDoubleArray();
        var gy = Numerics.Randn(new Random(5), y.Length);
        using var g = Tensor.From<double>(gy, new Shape(2, n, 3), DType.Float64);
        model.Backward(g);
        var dx = tx.Grad!.ToDoubleArray();
        for (int i = 0; i < y.Length; i++)
        {
            bool m = mask[i / (n * 3) * 3 + i % 3];
            Assert.That(y[i], Is.EqualTo(m ? -7.0 : 2 * x[i]), $"forward [{i}]");
            Assert.That(dx[i], Is.EqualTo(m ? 0 : 2 * gy[i]), $"dx [{i}]");
        }
    }

    [Test]
    public void SelfAttentionWithABoolPaddingMask_GradientsMatchFiniteDifferences_AndPaddedKeysGetNoWeight()
    {
        using var model = new BoolMaskedAttention(Device.Cpu, 3, DType.Float64);
        var rng = new Random(9);
        using var x = Tensor.From<double>(Numerics.Randn(rng, 2 * 5 * 6), new Shape(2, 5, 6), DType.Float64);
        using var padding = Tensor.From<bool>([false, false, false, false, false, false, false, false, true, true], new Shape(2, 1, 5), DType.Bool);
        using var target = Tensor.From<double>(Numerics.Randn(rng, 2 * 5 * 6), new Shape(2, 5, 6), DType.Float64);
        x.RequiresGrad = true;
        double Loss() => model.Mse(x, padding, target);
        model.ZeroGrad();
        Loss();
        model.Backward();
        Numerics.AssertDirectionalDerivatives(model, Loss, new Random(6));
        var dx = x.Grad!.ToDoubleArray();
        var xs = x.ToDoubleArray();
        var coordinates = Enumerable.Range(0, xs.Length).Where(i => i % 7 == 0).ToArray();
        var numeric = Numerics.FiniteDifferenceVjp(v =>
        {
            x.CopyFrom<double>(v);
            var l = Loss();
            x.CopyFrom<double>(xs);
            return [l];
        }, xs, [1.0], coordinates);
        Numerics.AssertGradient(coordinates.Select(i => dx[i]).ToArray(), coordinates.Select(i => numeric[i]).ToArray(), what: "dx");

        var before = model.Run(x, padding).ToDoubleArray();
        var span = x.AsSpan<double>();
        for (int f = 0; f < 6; f++) span[(5 + 4) * 6 + f] += 3; // example 1's last position is padding
        var after = model.Run(x, padding).ToDoubleArray();
        for (int t = 0; t < 4; t++)
            for (int f = 0; f < 6; f++)
                Assert.That(after[(5 + t) * 6 + f], Is.EqualTo(before[(5 + t) * 6 + f]).Within(1e-12), $"example 1, position {t}");
    }

    [Test]
    public void IntegerIds_Int32AndInt64Agree_AndFloatIdsAreRefusedByName()
    {
        using var model = new IdsModel(Device.Cpu, 1);
        long[] ids = [3, 0, 10, 7, 7, 1];
        using var i64 = Tensor.From<long>(ids, new Shape(2, 3), DType.Int64);
        using var i32 = Tensor.From<long>(ids, new Shape(2, 3), DType.Int32);
        var y64 = model.Run(i64).ToArray();
        var y32 = model.Run(i32).ToArray();
        Assert.That(y64, Is.EqualTo(y32));
        Assert.That(model.Run(i64).Shape, Is.EqualTo(new Shape(6, 3)));
        using var floats = Tensor.From<long>(ids, new Shape(2, 3), DType.Float32);
        var error = Assert.Throws<ArgumentException>(() => model.Run(floats))!;
        Assert.That(error.Message, Does.Contain("'ids' is the ids of Embedding 'table' and must hold integers (Int32 or Int64), but it holds Float32"));
        using var outside = Tensor.From<long>([3, 0, 11, 7, 7, 1], new Shape(2, 3), DType.Int64);
        Assert.That(() => model.Run(outside), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("token id 11 at position 2"));
    }

    [Test]
    public void BoolAndIntegerInputsUsedAsNumbers_ArePromoted()
    {
        using var model = new PromotedMaskOp(Device.Cpu, 0, DType.Float32);
        float[] x = [1.5f, -2, 3, 4];
        using var tx = Tensor.From(x, 4);
        using var keep = Tensor.From<bool>([true, false, true, false], new Shape(4), DType.Bool);
        Assert.That(model.Run(tx, keep).ToArray(), Is.EqualTo(new[] { 1.5f, -7, 3, -7 }));
        using var keepInt = Tensor.From<long>([0, 1, 1, 0], new Shape(4), DType.Int64);
        Assert.That(model.Run(tx, keepInt).ToArray(), Is.EqualTo(new[] { -7f, -2, 3, -7 }));
        using var wrong = Tensor.From<double>([1, 0, 1, 0], new Shape(4), DType.Float64);
        Assert.That(() => model.Run(tx, wrong), Throws.ArgumentException.With.Message.Contains("holds Float64 but the model computes in Float32"));
    }
}
