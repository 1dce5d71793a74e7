using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// Ops.SoftmaxDim / SoftmaxDimBackward (softmax and log_softmax over any dim) called directly: float64 forward against
/// a reference (1e-12), float32 against it (1e-5), float64 backward against finite differences element by element with
/// the dim of size 1, 3, 17, 257 (first, middle, last, negative), on the engine's threads, accumulation, agreement with
/// the last-dim routines, large and −∞ inputs, errors and the ILGPU message.
/// </summary>
[Category("CpuEngine")]
public class SoftmaxDimRoutineTests
{
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
        yield return new([16, 70, 50], 1);
        yield return new([300, 200], -1);
        yield return new([200, 300], 0);
    }

    public static IEnumerable<TestCaseData> Cases()
        => from log in new[] { false, true } from l in Layouts()
           select new TestCaseData(log, l).SetArgDisplayNames(log ? "log_softmax" : "softmax", l.ToString());

    private static double[] Input(Layout l, int seed) => Numerics.Randn(new Random(seed), TensorRef.Count(l.Shape), 2);

    private static double[] Forward(DType dtype, double[] x, Layout l, bool log)
        => TensorRef.Run(dtype, x, l.Shape, l.Shape, (tx, ty) =>
        {
            if (dtype == DType.Float64) ModelGen.Ops.SoftmaxDim<double>(tx, ty, l.Dim, log);
            else ModelGen.Ops.SoftmaxDim<float>(tx, ty, l.Dim, log);
        });

    private static double[] Reference(double[] x, Layout l, bool log) => TensorRef.MapSlices(x, l.Shape, l.Dim, s => TensorRef.Softmax(s, log));

    [TestCaseSource(nameof(Cases))]
    public void Forward_Float64_MatchesReference(bool log, Layout l)
    {
        var x = Input(l, 1);
        TensorRef.AssertClose(Forward(DType.Float64, x, l, log), Reference(x, l, log), 1e-12, "y");
    }

    [TestCaseSource(nameof(Cases))]
    public void Forward_Float32_MatchesFloat64Reference(bool log, Layout l)
    {
        var x = Input(l, 2);
        // log_softmax values are O(log n) with rounding ~1e-7 absolute: relative per entry, floor 1e-5 of the largest
        TensorRef.AssertClose(Forward(DType.Float32, x, l, log), Reference(x, l, log), 1e-5, "y");
    }

    [TestCaseSource(nameof(Cases))]
    public void Backward_MatchesFiniteDifferences_AndAccumulates(bool log, Layout l)
    {
        var x = Input(l, 3);
        var gy = Numerics.Randn(new Random(4), x.Length);
        var dx = Backward(x, l, gy, log, null);
        TensorRef.AssertGradient(v => Forward(DType.Float64, v, l, log), x, gy, dx, TensorRef.Coordinates(x.Length, 5), log ? "log_softmax" : "softmax");
        var dx0 = Numerics.Randn(new Random(6), x.Length);
        TensorRef.AssertClose(Backward(x, l, gy, log, dx0), dx.Zip(dx0, (a, b) => a + b).ToArray(), 1e-15, "accumulated");
        var dx32 = Backward(x, l, gy, log, null, DType.Float32);
        TensorRef.AssertClose(dx32, dx, 1e-5, "float32 backward");
    }

    private static double[] Backward(double[] x, Layout l, double[] gy, bool log, double[]? dx0, DType dtype = DType.Float64)
    {
        var shape = new Shape(l.Shape);
        using var tx = Tensor.From<double>(x, shape, dtype);
        using var ty = Tensor.Zeros(shape, dtype);
        using var tg = Tensor.From<double>(gy, shape, dtype);
        using var dx = dx0 is null ? Tensor.Zeros(shape, dtype) : Tensor.From<double>(dx0, shape, dtype);
        if (dtype == DType.Float64)
        {
            ModelGen.Ops.SoftmaxDim<double>(tx, ty, l.Dim, log);
            ModelGen.Ops.SoftmaxDimBackward<double>(ty, tg, dx, l.Dim, log, dx0 is not null);
        }
        else
        {
            ModelGen.Ops.SoftmaxDim<float>(tx, ty, l.Dim, log);
            ModelGen.Ops.SoftmaxDimBackward<float>(ty, tg, dx, l.Dim, log, dx0 is not null);
        }
        return dx.ToDoubleArray();
    }

    /// <summary>Over the last dim, the same values as the existing last-dim routines (Ops.Softmax / Ops.LogSoftmax).</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void LastDim_AgreesWithTheLastDimRoutines(bool log)
    {
        var l = new Layout([5, 33], -1);
        var x = Input(l, 7);
        var gy = Numerics.Randn(new Random(8), x.Length);
        using var tx = Tensor.From<double>(x, new Shape(l.Shape), DType.Float64);
        using var ty = Tensor.Zeros(new Shape(l.Shape), DType.Float64);
        using var tg = Tensor.From<double>(gy, new Shape(l.Shape), DType.Float64);
        using var dx = Tensor.Zeros(new Shape(l.Shape), DType.Float64);
        if (log) { ModelGen.Ops.LogSoftmax<double>(tx, ty); ModelGen.Ops.LogSoftmaxBackward<double>(ty, tg, dx, false); }
        else { ModelGen.Ops.Softmax<double>(tx, ty); ModelGen.Ops.SoftmaxBackward<double>(ty, tg, dx, false); }
        TensorRef.AssertClose(Forward(DType.Float64, x, l, log), ty.ToDoubleArray(), 1e-14, "y");
        TensorRef.AssertClose(Backward(x, l, gy, log, null), dx.ToDoubleArray(), 1e-13, "dx");
    }

    [Test]
    public void LargeInputs_StayFinite_AndMinusInfinityGetsZero()
    {
        var l = new Layout([2, 3], 0);
        double[] x = [1000, -700, double.NegativeInfinity, 1001, -700, 0];
        var y = Forward(DType.Float64, x, l, log: false);
        TensorRef.AssertClose(y, Reference(x, l, false), 1e-12, "softmax");
        Assert.That(y[2], Is.EqualTo(0));
        var ylog = Forward(DType.Float32, x, l, log: true);
        Assert.That(ylog[0], Is.EqualTo(-1 - Math.Log(1 + Math.Exp(-1))).Within(1e-4));
        Assert.That(ylog[2], Is.EqualTo(double.NegativeInfinity));
    }

    [Test]
    public void DimOutOfRange_NamesTheOpTheDimAndTheRank()
    {
        using var x = Tensor.Zeros(new Shape(2, 3), DType.Float64);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.SoftmaxDim<double>(x, x, 2, false))!;
        Assert.That(e.Message, Does.StartWith("SoftmaxDim: dim 2 is out of range for a tensor of rank 2 (expected -2 to 1)"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.SoftmaxDimBackward<double>(x, x, x, -3, true, false))!;
        Assert.That(e.Message, Does.StartWith("LogSoftmaxDimBackward: dim -3 is out of range for a tensor of rank 2"));
    }

    [Test, Category("Ilgpu")]
    public void OnIlgpu_SaysThereIsNoIlgpuFormYet()
    {
        using var x = Tensor.Zeros(new Shape(2, 3), DType.Float32, TensorRef.Gpu);
        var e = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.SoftmaxDim<float>(x, x, 0, false))!;
        Assert.That(e.Message, Is.EqualTo("SoftmaxDim has no ILGPU form yet (it comes with GPU part 2): run this model on Device.Cpu"));
        e = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.SoftmaxDimBackward<float>(x, x, x, 0, true, false))!;
        Assert.That(e.Message, Is.EqualTo("LogSoftmaxDimBackward has no ILGPU form yet (it comes with GPU part 2): run this model on Device.Cpu"));
    }
}
