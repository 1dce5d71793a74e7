using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// Ops.ReduceShape and the reductions over one dim (Sum, Mean, Max, Min, Var unbiased and biased, LogSumExp) called
/// directly: float64 forward against a naive reference (1e-12), float32 against it (1e-5), float64 backward against
/// finite differences element by element with the reduced dim of size 1, 3, 17 and 257 (first, middle and last,
/// negative dims), on the engine's threads, accumulation, keepDim, ties of Max/Min (even split), edge values, errors.
/// </summary>
[Category("CpuEngine")]
public class ReduceDimRoutineTests
{
    public sealed record Op(string Name, Func<double[], double> Reference,
        Action<DType, Tensor, Tensor, int> Forward,
        Action<Tensor, Tensor, Tensor, Tensor, int, bool> Backward) // x, y, dy, dx, dim, accumulate (float64)
    {
        public override string ToString() => Name;
    }

    public static readonly Op[] All =
    [
        new("sum", TensorRef.Sum,
            (t, x, y, d) => { if (t == DType.Float64) ModelGen.Ops.SumDim<double>(x, y, d, false); else ModelGen.Ops.SumDim<float>(x, y, d, false); },
            (x, y, g, dx, d, acc) => ModelGen.Ops.SumDimBackward<double>(g, dx, d, false, acc)),
        new("mean", TensorRef.Mean,
            (t, x, y, d) => { if (t == DType.Float64) ModelGen.Ops.SumDim<double>(x, y, d, true); else ModelGen.Ops.SumDim<float>(x, y, d, true); },
            (x, y, g, dx, d, acc) => ModelGen.Ops.SumDimBackward<double>(g, dx, d, true, acc)),
        new("amax", s => s.Max(),
            (t, x, y, d) => { if (t == DType.Float64) ModelGen.Ops.MaxDim<double>(x, y, d, false); else ModelGen.Ops.MaxDim<float>(x, y, d, false); },
            (x, y, g, dx, d, acc) => ModelGen.Ops.MaxDimBackward<double>(x, y, g, dx, d, false, acc)),
        new("amin", s => s.Min(),
            (t, x, y, d) => { if (t == DType.Float64) ModelGen.Ops.MaxDim<double>(x, y, d, true); else ModelGen.Ops.MaxDim<float>(x, y, d, true); },
            (x, y, g, dx, d, acc) => ModelGen.Ops.MaxDimBackward<double>(x, y, g, dx, d, true, acc)),
        new("var", s => TensorRef.Var(s, true),
            (t, x, y, d) => { if (t == DType.Float64) ModelGen.Ops.VarDim<double>(x, y, d, true); else ModelGen.Ops.VarDim<float>(x, y, d, true); },
            (x, y, g, dx, d, acc) => ModelGen.Ops.VarDimBackward<double>(x, g, dx, d, true, acc)),
        new("var_biased", s => TensorRef.Var(s, false),
            (t, x, y, d) => { if (t == DType.Float64) ModelGen.Ops.VarDim<double>(x, y, d, false); else ModelGen.Ops.VarDim<float>(x, y, d, false); },
            (x, y, g, dx, d, acc) => ModelGen.Ops.VarDimBackward<double>(x, g, dx, d, false, acc)),
        new("logsumexp", TensorRef.LogSumExp,
            (t, x, y, d) => { if (t == DType.Float64) ModelGen.Ops.LogSumExpDim<double>(x, y, d); else ModelGen.Ops.LogSumExpDim<float>(x, y, d); },
            (x, y, g, dx, d, acc) => ModelGen.Ops.LogSumExpDimBackward<double>(x, y, g, dx, d, acc)),
    ];

    public sealed record Layout(int[] Shape, int Dim)
    {
        public override string ToString() => $"{ModelGen.Shape.Format(Shape)}_dim{Dim}";
    }

    public static IEnumerable<Layout> Layouts()
    {
        foreach (int n in new[] { 1, 3, 17, 257 })
        {
            yield return new([2, n, 3], 1);
            yield return new([2, n, 3], -2);
            yield return new([3, n], -1);
            yield return new([n], 0);
            yield return new([n, 4], 0);
        }
        yield return new([16, 70, 50], 1);   // on the engine's threads, 64-column blocks
        yield return new([300, 200], -1);    // rows on the engine's threads
        yield return new([200, 300], -2);    // columns on the engine's threads
        yield return new([2, 3, 1, 4], 2);
    }

    public static IEnumerable<TestCaseData> ForwardCases()
        => from op in All from l in Layouts() select new TestCaseData(op, l).SetArgDisplayNames(op.Name, l.ToString());

    private static double[] Input(Layout l, int seed) => Numerics.Randn(new Random(seed), TensorRef.Count(l.Shape), 1.5);

    private static int[] Reduced(Layout l, bool keepDim = false) => ModelGen.Ops.ReduceShape(new Shape(l.Shape), l.Dim, keepDim, "test").Dims.ToArray();

    private static double[] Forward(Op op, DType dtype, double[] x, Layout l, bool keepDim = false)
        => TensorRef.Run(dtype, x, l.Shape, Reduced(l, keepDim), (tx, ty) => op.Forward(dtype, tx, ty, l.Dim));

    [TestCaseSource(nameof(ForwardCases))]
    public void Forward_Float64_MatchesReference(Op op, Layout l)
    {
        var x = Input(l, 1);
        TensorRef.AssertClose(Forward(op, DType.Float64, x, l), TensorRef.Reduce(x, l.Shape, l.Dim, op.Reference), 1e-12, op.Name);
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void Forward_Float32_MatchesFloat64Reference(Op op, Layout l)
    {
        var x = Input(l, 2);
        TensorRef.AssertClose(Forward(op, DType.Float32, x, l), TensorRef.Reduce(x, l.Shape, l.Dim, op.Reference), 1e-5, op.Name);
    }

    /// <summary>keepDim changes the shape only: the same values with y of shape [.., 1, ..].</summary>
    [TestCaseSource(nameof(ForwardCases))]
    public void Forward_KeepDim_SameValues(Op op, Layout l)
    {
        var x = Input(l, 3);
        Assert.That(Forward(op, DType.Float64, x, l, keepDim: true), Is.EqualTo(Forward(op, DType.Float64, x, l)));
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void Backward_MatchesFiniteDifferences_AndAccumulates(Op op, Layout l)
    {
        int n = l.Shape[l.Dim < 0 ? l.Dim + l.Shape.Length : l.Dim];
        if (op.Name == "var" && n == 1)
        {
            // the unbiased variance of one element is 0/0: its gradient 2(x − m)/(n − 1) is NaN too, as in PyTorch
            var one = Input(l, 4);
            Assert.That(Backward(op, one, l, Numerics.Randn(new Random(5), TensorRef.Count(Reduced(l))), null), Is.All.NaN);
            return;
        }
        // Max/Min: distinct values 0.05 apart (no near-ties within the finite-difference step), in a seeded order
        var x = Input(l, 4);
        if (op.Name is "amax" or "amin")
        {
            // along the dim: 0.05·(0 … n−1) − n/40, shuffled per slice (small values keep the differences accurate)
            var rng = new Random(4);
            x = TensorRef.MapSlices(x, l.Shape, l.Dim, s =>
            {
                var v = Enumerable.Range(0, s.Length).Select(k => 0.05 * k - s.Length / 40.0).ToArray();
                rng.Shuffle(v);
                return v;
            });
        }
        var yShape = Reduced(l);
        var gy = Numerics.Randn(new Random(5), TensorRef.Count(yShape));
        var dx = Backward(op, x, l, gy, null);
        TensorRef.AssertGradient(v => Forward(op, DType.Float64, v, l), x, gy, dx, TensorRef.Coordinates(x.Length, 6), op.Name);
        var dx0 = Numerics.Randn(new Random(7), x.Length);
        TensorRef.AssertClose(Backward(op, x, l, gy, dx0), dx.Zip(dx0, (a, b) => a + b).ToArray(), 1e-15, op.Name + " accumulated");
    }

    private static double[] Backward(Op op, double[] x, Layout l, double[] gy, double[]? dx0, bool keepDim = false)
    {
        var yShape = new Shape(Reduced(l, keepDim));
        using var tx = Tensor.From<double>(x, new Shape(l.Shape), DType.Float64);
        using var ty = Tensor.Zeros(yShape, DType.Float64);
        op.Forward(DType.Float64, tx, ty, l.Dim);
        using var tg = Tensor.From<double>(gy, yShape, DType.Float64);
        using var dx = dx0 is null ? Tensor.Zeros(new Shape(l.Shape), DType.Float64) : Tensor.From<double>(dx0, new Shape(l.Shape), DType.Float64);
        op.Backward(tx, ty, tg, dx, l.Dim, dx0 is not null);
        return dx.ToDoubleArray();
    }

    [Test]
    public void Backward_KeepDim_SameValues([ValueSource(nameof(All))] Op op)
    {
        var l = new Layout([2, 17, 3], -2);
        var x = Input(l, 8);
        var gy = Numerics.Randn(new Random(9), 6);
        Assert.That(Backward(op, x, l, gy, null, keepDim: true), Is.EqualTo(Backward(op, x, l, gy, null)));
    }

    [TestCase(new[] { 2, 3, 4 }, 1, true, new[] { 2, 1, 4 })]
    [TestCase(new[] { 2, 3, 4 }, 1, false, new[] { 2, 4 })]
    [TestCase(new[] { 2, 3, 4 }, -1, false, new[] { 2, 3 })]
    [TestCase(new[] { 2, 3, 4 }, -3, true, new[] { 1, 3, 4 })]
    [TestCase(new[] { 5 }, 0, false, new int[0])]
    [TestCase(new[] { 5 }, -1, true, new[] { 1 })]
    [TestCase(new int[0], 0, false, new int[0])]
    public void ReduceShape_DropsOrKeepsTheDim(int[] shape, int dim, bool keepDim, int[] expected)
        => Assert.That(ModelGen.Ops.ReduceShape(new Shape(shape), dim, keepDim, "Sum"), Is.EqualTo(new Shape(expected)));

    [Test]
    public void DimOutOfRange_NamesTheOpTheDimAndTheRank()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.ReduceShape(new Shape(2, 3, 4), 3, false, "Sum"))!;
        Assert.That(e.Message, Does.StartWith("Sum: dim 3 is out of range for a tensor of rank 3 (expected -3 to 2)"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.ReduceShape(new Shape(2, 3), -3, true, "Var"))!;
        Assert.That(e.Message, Does.StartWith("Var: dim -3 is out of range for a tensor of rank 2 (expected -2 to 1)"));
        using var x = Tensor.Zeros(new Shape(2, 3), DType.Float64);
        using var y = Tensor.Zeros(new Shape(2), DType.Float64);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.MaxDim<double>(x, y, 2, false))!;
        Assert.That(e.Message, Does.StartWith("MaxDim: dim 2 is out of range for a tensor of rank 2"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.LogSumExpDimBackward<double>(x, y, y, x, -5, false))!;
        Assert.That(e.Message, Does.StartWith("LogSumExpDimBackward: dim -5 is out of range for a tensor of rank 2"));
    }

    [Test]
    public void WrongOutputSize_IsAShapeError()
    {
        using var x = Tensor.Zeros(new Shape(2, 3), DType.Float64);
        using var y = Tensor.Zeros(new Shape(3), DType.Float64);
        var e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.SumDim<double>(x, y, 1, false))!;
        Assert.That(e.Message, Is.EqualTo("SumDim: y [3] holds 3 values, expected 2."));
    }

    /// <summary>Exactly equal maxima share the gradient evenly (torch.amax/amin): 1/3 each for three ties.</summary>
    [Test]
    public void MaxAndMin_Ties_SplitTheGradientEvenly()
    {
        // rows along dim 1 of [2, 5, 2]; column 0 of row 0 has three maxima 3 and two minima −1
        double[] x =
        [
            3, 0,   -1, 4,   3, 4,   -1, 2,   3, -7,
            5, 1,   5, 1,    2, 1,   0, 1,    1, 1,
        ];
        var l = new Layout([2, 5, 2], 1);
        double[] gy = [6, 2, 4, 8];
        var max = All.First(o => o.Name == "amax");
        var min = All.First(o => o.Name == "amin");
        Assert.That(Forward(max, DType.Float64, x, l), Is.EqualTo(new double[] { 3, 4, 5, 1 }));
        Assert.That(Backward(max, x, l, gy, null), Is.EqualTo(new double[]
        {
            2, 0,   0, 1,   2, 1,   0, 0,   2, 0,
            2, 8.0 / 5,   2, 8.0 / 5,   0, 8.0 / 5,   0, 8.0 / 5,   0, 8.0 / 5,
        }));
        Assert.That(Forward(min, DType.Float64, x, l), Is.EqualTo(new double[] { -1, -7, 0, 1 }));
        Assert.That(Backward(min, x, l, gy, null), Is.EqualTo(new double[]
        {
            0, 0,   3, 0,   0, 0,   3, 0,   0, 2,
            0, 8.0 / 5,   0, 8.0 / 5,   0, 8.0 / 5,   4, 8.0 / 5,   0, 8.0 / 5,
        }));
        // float32 forward ties too
        Assert.That(Forward(max, DType.Float32, x, l), Is.EqualTo(new double[] { 3, 4, 5, 1 }));
    }

    [Test]
    public void LogSumExp_OfAllMinusInfinity_IsMinusInfinity_AndSendsNoGradient()
    {
        double[] x = [double.NegativeInfinity, double.NegativeInfinity, 0, double.NegativeInfinity, 1000, 1000];
        var l = new Layout([3, 2], 1);
        var lse = All.First(o => o.Name == "logsumexp");
        var y = Forward(lse, DType.Float64, x, l);
        Assert.That(y[0], Is.EqualTo(double.NegativeInfinity));
        Assert.That(y[1], Is.EqualTo(0));
        Assert.That(y[2], Is.EqualTo(1000 + Math.Log(2)).Within(1e-12));
        Assert.That(Forward(lse, DType.Float32, x, l)[0], Is.EqualTo(double.NegativeInfinity));
        Assert.That(Backward(lse, x, l, [1, 1, 1], null), Is.EqualTo(new double[] { 0, 0, 1, 0, 0.5, 0.5 }).Within(1e-12));
    }

    [Test]
    public void Var_OfOneElement_IsNaN_Unbiased_AndZero_Biased()
    {
        var l = new Layout([3, 1], 1);
        double[] x = [1, 2, 3];
        Assert.That(Forward(All.First(o => o.Name == "var"), DType.Float64, x, l), Is.All.NaN);
        Assert.That(Forward(All.First(o => o.Name == "var"), DType.Float32, x, l), Is.All.NaN);
        Assert.That(Forward(All.First(o => o.Name == "var_biased"), DType.Float64, x, l), Is.All.Zero);
        Assert.That(Backward(All.First(o => o.Name == "var"), x, l, [1, 1, 1], null), Is.All.NaN);
    }

    /// <summary>Float32 sums accumulate in double: a million values of 0.1 (plus one large one) stay within 1e-6.</summary>
    [Test]
    public void Float32Sum_AccumulatesInDouble()
    {
        int n = 1 << 20;
        var x = Enumerable.Repeat(0.1, n).ToArray();
        x[0] = 1e4;
        double expected = 0;
        foreach (var v in x) expected += (float)v;
        var y = TensorRef.Run(DType.Float32, x, [n], [], (tx, ty) => ModelGen.Ops.SumDim<float>(tx, ty, 0, false));
        Assert.That(y[0], Is.EqualTo(expected).Within(1e-4).Percent);
        var cols = TensorRef.Run(DType.Float32, x, [n / 4, 4], [4], (tx, ty) => ModelGen.Ops.SumDim<float>(tx, ty, 0, false));
        Assert.That(cols.Sum(), Is.EqualTo(expected).Within(1e-4).Percent);
    }

    [Test]
    public void MaxOfAnEmptyDim_IsAShapeError()
    {
        using var x = Tensor.Zeros(new Shape(2, 0), DType.Float64);
        using var y = Tensor.Zeros(new Shape(2), DType.Float64);
        var e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.MaxDim<double>(x, y, 1, false))!;
        Assert.That(e.Message, Does.StartWith("MaxDim: x [2, 0] is empty along dim 1"));
    }

    [Test, Category("Ilgpu")]
    public void OnIlgpu_SaysThereIsNoIlgpuFormYet()
    {
        using var x = Tensor.Zeros(new Shape(2, 3), DType.Float32, TensorRef.Gpu);
        using var y = Tensor.Zeros(new Shape(2), DType.Float32, TensorRef.Gpu);
        const string Tail = " has no ILGPU form yet (it comes with GPU part 2): run this model on Device.Cpu";
        var calls = new (string Op, TestDelegate Call)[]
        {
            ("SumDim", () => ModelGen.Ops.SumDim<float>(x, y, 1, false)),
            ("MeanDim", () => ModelGen.Ops.SumDim<float>(x, y, 1, true)),
            ("SumDimBackward", () => ModelGen.Ops.SumDimBackward<float>(y, x, 1, false, false)),
            ("MaxDim", () => ModelGen.Ops.MaxDim<float>(x, y, 1, false)),
            ("MinDimBackward", () => ModelGen.Ops.MaxDimBackward<float>(x, y, y, x, 1, true, false)),
            ("VarDim", () => ModelGen.Ops.VarDim<float>(x, y, 1, true)),
            ("VarDimBackward", () => ModelGen.Ops.VarDimBackward<float>(x, y, x, 1, true, false)),
            ("LogSumExpDim", () => ModelGen.Ops.LogSumExpDim<float>(x, y, 1)),
            ("LogSumExpDimBackward", () => ModelGen.Ops.LogSumExpDimBackward<float>(x, y, y, x, 1, false)),
        };
        foreach (var (op, call) in calls)
            Assert.That(Assert.Throws<NotSupportedException>(call)!.Message, Is.EqualTo(op + Tail));
    }
}
