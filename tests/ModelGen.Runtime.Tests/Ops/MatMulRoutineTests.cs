using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// Ops.MatMulShape / MatMul / MatMulBackward called directly (torch.matmul semantics): float64 forward against a naive
/// reference (1e-12), float32 against it (1e-5), both gradients against central finite differences element by element,
/// for 1-D operands, 2-D, batched and broadcast batch shapes; accumulation; errors; the ILGPU message.
/// </summary>
[Category("CpuEngine")]
public class MatMulRoutineTests
{
    public sealed record Case(int[] A, int[] B)
    {
        public override string ToString() => $"{Shape.Format(A)}x{Shape.Format(B)}";
    }

    public static IEnumerable<Case> Cases() =>
    [
        new([4], [4]),
        new([1], [1]),
        new([3, 4], [4, 5]),
        new([1, 1], [1, 1]),
        new([4], [4, 3]),
        new([2, 3, 4], [4]),
        new([4], [2, 4, 3]),
        new([3, 1, 5, 4], [2, 4, 6]),
        new([2, 1, 3, 4], [5, 4, 6]),
        new([2, 3, 4], [4, 5]),        // b one matrix: the batch folds into the rows
        new([4, 5], [2, 5, 3]),        // a one matrix, b batched
        new([2, 17, 3], [2, 3, 1]),
        new([3, 17], [17, 257]),
        new([2, 257], [257, 3]),
        new([1, 2, 3], [3, 1, 3, 2]),
    ];

    private static Shape S(int[] d) => new(d);

    private static (double[] A, double[] B) Inputs(Case c, int seed)
    {
        var rng = new Random(seed);
        return (Numerics.Randn(rng, TensorRef.Count(c.A)), Numerics.Randn(rng, TensorRef.Count(c.B)));
    }

    private static double[] Forward(DType dtype, double[] a, int[] aShape, double[] b, int[] bShape)
    {
        var yShape = ModelGen.Ops.MatMulShape(S(aShape), S(bShape));
        using var ta = Tensor.From<double>(a, S(aShape), dtype);
        using var tb = Tensor.From<double>(b, S(bShape), dtype);
        using var ty = Tensor.Zeros(yShape, dtype);
        if (dtype == DType.Float64) ModelGen.Ops.MatMul<double>(ta, tb, ty);
        else ModelGen.Ops.MatMul<float>(ta, tb, ty);
        return ty.ToDoubleArray();
    }

    [TestCaseSource(nameof(Cases))]
    public void Shape_IsTorchMatmuls(Case c)
    {
        var (_, expected) = TensorRef.MatMul(new double[TensorRef.Count(c.A)], c.A, new double[TensorRef.Count(c.B)], c.B);
        Assert.That(ModelGen.Ops.MatMulShape(S(c.A), S(c.B)), Is.EqualTo(S(expected)));
    }

    [Test]
    public void Shape_Examples()
    {
        Assert.That(ModelGen.Ops.MatMulShape(S([2, 1, 3, 4]), S([5, 4, 6])), Is.EqualTo(S([2, 5, 3, 6])));
        Assert.That(ModelGen.Ops.MatMulShape(S([4]), S([4])), Is.EqualTo(Shape.Scalar));
        Assert.That(ModelGen.Ops.MatMulShape(S([4]), S([2, 4, 3])), Is.EqualTo(S([2, 3])));
        Assert.That(ModelGen.Ops.MatMulShape(S([2, 3, 4]), S([4])), Is.EqualTo(S([2, 3])));
        Assert.That(ModelGen.Ops.MatMulShape(S([3, 1, 5, 4]), S([2, 4, 6])), Is.EqualTo(S([3, 2, 5, 6])));
    }

    [TestCaseSource(nameof(Cases))]
    public void Forward_Float64_MatchesReference(Case c)
    {
        var (a, b) = Inputs(c, 1);
        var (expected, _) = TensorRef.MatMul(a, c.A, b, c.B);
        TensorRef.AssertClose(Forward(DType.Float64, a, c.A, b, c.B), expected, 1e-12, "y");
    }

    [TestCaseSource(nameof(Cases))]
    public void Forward_Float32_MatchesFloat64Reference(Case c)
    {
        var (a, b) = Inputs(c, 2);
        var (expected, _) = TensorRef.MatMul(a, c.A, b, c.B);
        TensorRef.AssertClose(Forward(DType.Float32, a, c.A, b, c.B), expected, 1e-5, "y");
    }

    /// <summary>Both gradients (float64) against finite differences of the forward; then accumulate = true adds to what
    /// da and db held.</summary>
    [TestCaseSource(nameof(Cases))]
    public void Backward_MatchesFiniteDifferences_AndAccumulates(Case c)
    {
        var (a, b) = Inputs(c, 3);
        var yShape = ModelGen.Ops.MatMulShape(S(c.A), S(c.B));
        var gy = Numerics.Randn(new Random(4), yShape.Count);
        var (da, db) = Backward(a, c.A, b, c.B, gy, null, null);
        TensorRef.AssertGradient(x => Forward(DType.Float64, x, c.A, b, c.B), a, gy, da, TensorRef.Coordinates(a.Length, 5), "da");
        TensorRef.AssertGradient(x => Forward(DType.Float64, a, c.A, x, c.B), b, gy, db, TensorRef.Coordinates(b.Length, 6), "db");

        var da0 = Numerics.Randn(new Random(7), a.Length);
        var db0 = Numerics.Randn(new Random(8), b.Length);
        var (daAcc, dbAcc) = Backward(a, c.A, b, c.B, gy, da0, db0);
        TensorRef.AssertClose(daAcc, da.Zip(da0, (x, y) => x + y).ToArray(), 1e-12, "da accumulated");
        TensorRef.AssertClose(dbAcc, db.Zip(db0, (x, y) => x + y).ToArray(), 1e-12, "db accumulated");
    }

    private static (double[] Da, double[] Db) Backward(double[] a, int[] aShape, double[] b, int[] bShape, double[] gy, double[]? da0, double[]? db0,
        DType dtype = DType.Float64)
    {
        var yShape = ModelGen.Ops.MatMulShape(S(aShape), S(bShape));
        using var ta = Tensor.From<double>(a, S(aShape), dtype);
        using var tb = Tensor.From<double>(b, S(bShape), dtype);
        using var tg = Tensor.From<double>(gy, yShape, dtype);
        using var da = da0 is null ? Tensor.Zeros(S(aShape), dtype) : Tensor.From<double>(da0, S(aShape), dtype);
        using var db = db0 is null ? Tensor.Zeros(S(bShape), dtype) : Tensor.From<double>(db0, S(bShape), dtype);
        if (dtype == DType.Float64) ModelGen.Ops.MatMulBackward<double>(ta, tb, tg, da, da0 is not null, db, db0 is not null);
        else ModelGen.Ops.MatMulBackward<float>(ta, tb, tg, da, da0 is not null, db, db0 is not null);
        return (da.ToDoubleArray(), db.ToDoubleArray());
    }

    /// <summary>Many small matrices (parallel over batches, one single-threaded GEMM per part), and a broadcast batch
    /// that is reduced inside the parallel loop: forward and both gradients in float64 against the reference and
    /// sampled finite differences, float32 forward and backward against float64.</summary>
    [TestCase(new[] { 32, 12, 16, 8 }, new[] { 32, 12, 8, 16 })]
    [TestCase(new[] { 32, 12, 16, 8 }, new[] { 12, 8, 16 })]
    [TestCase(new[] { 1, 12, 16, 8 }, new[] { 32, 1, 8, 16 })]
    public void ManySmallMatrices(int[] aShape, int[] bShape)
    {
        var c = new Case(aShape, bShape);
        var (a, b) = Inputs(c, 9);
        var (expected, yShape) = TensorRef.MatMul(a, aShape, b, bShape);
        TensorRef.AssertClose(Forward(DType.Float64, a, aShape, b, bShape), expected, 1e-12, "y");
        TensorRef.AssertClose(Forward(DType.Float32, a, aShape, b, bShape), expected, 1e-5, "y float32");
        var gy = Numerics.Randn(new Random(10), TensorRef.Count(yShape));
        var (da, db) = Backward(a, aShape, b, bShape, gy, null, null);
        TensorRef.AssertGradient(x => Forward(DType.Float64, x, aShape, b, bShape), a, gy, da, TensorRef.Coordinates(a.Length, 11), "da");
        TensorRef.AssertGradient(x => Forward(DType.Float64, a, aShape, x, bShape), b, gy, db, TensorRef.Coordinates(b.Length, 12), "db");
        var (da32, db32) = Backward(a, aShape, b, bShape, gy, null, null, DType.Float32);
        TensorRef.AssertClose(da32, da, 1e-5, "da float32");
        TensorRef.AssertClose(db32, db, 1e-5, "db float32");
    }

    [Test]
    public void Backward_OnlyOneGradient()
    {
        var c = new Case([3, 1, 5, 4], [2, 4, 6]);
        var (a, b) = Inputs(c, 13);
        var gy = Numerics.Randn(new Random(14), ModelGen.Ops.MatMulShape(S(c.A), S(c.B)).Count);
        var (daRef, dbRef) = Backward(a, c.A, b, c.B, gy, null, null);
        using var ta = Tensor.From<double>(a, S(c.A), DType.Float64);
        using var tb = Tensor.From<double>(b, S(c.B), DType.Float64);
        using var tg = Tensor.From<double>(gy, ModelGen.Ops.MatMulShape(S(c.A), S(c.B)), DType.Float64);
        using var da = Tensor.Zeros(S(c.A), DType.Float64);
        using var db = Tensor.Zeros(S(c.B), DType.Float64);
        ModelGen.Ops.MatMulBackward<double>(ta, tb, tg, da, false, null, false);
        ModelGen.Ops.MatMulBackward<double>(ta, tb, tg, null, false, db, false);
        TensorRef.AssertClose(da.ToDoubleArray(), daRef, 1e-15, "da alone");
        TensorRef.AssertClose(db.ToDoubleArray(), dbRef, 1e-15, "db alone");
    }

    [Test]
    public void InnerMismatch_NamesBothShapes()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.MatMulShape(S([2, 32]), S([64, 3])))!;
        Assert.That(e.Message, Is.EqualTo("MatMul: a [2, 32] and b [64, 3]: inner dimensions 32 and 64 differ"));
        e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.MatMulShape(S([32]), S([64])))!;
        Assert.That(e.Message, Is.EqualTo("MatMul: a [32] and b [64]: inner dimensions 32 and 64 differ"));
        e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.MatMulShape(S([5, 2, 32]), S([5, 64, 3])))!;
        Assert.That(e.Message, Is.EqualTo("MatMul: a [5, 2, 32] and b [5, 64, 3]: inner dimensions 32 and 64 differ"));
    }

    [Test]
    public void BatchMismatch_AndScalar_AreShapeErrors()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.MatMulShape(S([3, 2, 4]), S([5, 4, 2])))!;
        Assert.That(e.Message, Does.StartWith("MatMul: a [3, 2, 4] and b [5, 4, 2]: batch dimensions [3] and [5] do not broadcast"));
        e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.MatMulShape(Shape.Scalar, S([3])))!;
        Assert.That(e.Message, Does.StartWith("MatMul: a [] and b [3]"));
    }

    [Test]
    public void WrongOutputSize_IsAShapeError()
    {
        using var a = Tensor.Zeros(S([2, 3]), DType.Float64);
        using var b = Tensor.Zeros(S([3, 4]), DType.Float64);
        using var y = Tensor.Zeros(S([2, 5]), DType.Float64);
        Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.MatMul<double>(a, b, y));
    }

    [Test, Category("Ilgpu")]
    public void OnIlgpu_SaysThereIsNoIlgpuFormYet()
    {
        using var a = Tensor.Zeros(S([2, 3]), DType.Float32, TensorRef.Gpu);
        using var b = Tensor.Zeros(S([3, 4]), DType.Float32, TensorRef.Gpu);
        using var y = Tensor.Zeros(S([2, 4]), DType.Float32, TensorRef.Gpu);
        var e = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.MatMul<float>(a, b, y))!;
        Assert.That(e.Message, Is.EqualTo("MatMul has no ILGPU form yet (it comes with GPU part 2): run this model on Device.Cpu"));
        e = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.MatMulBackward<float>(a, b, y, a, false, b, false))!;
        Assert.That(e.Message, Does.StartWith("MatMulBackward has no ILGPU form yet"));
    }
}
