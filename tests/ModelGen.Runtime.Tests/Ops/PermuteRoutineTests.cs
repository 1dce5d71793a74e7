using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// Ops.PermuteShape / Permute / PermuteBackward called directly: each of the three loops (tiled transpose of the last
/// two dims, row copies when the last dim stays, strided gather) inline and on the engine's threads, float64 and
/// float32 against a reference by multi-indices, the backward against finite differences and with accumulation,
/// negative dims, size-1 dims, errors and the ILGPU message.
/// </summary>
[Category("CpuEngine")]
public class PermuteRoutineTests
{
    public sealed record Case(int[] Shape, int[] Dims)
    {
        public override string ToString() => $"{ModelGen.Shape.Format(Shape)}.permute({string.Join(",", Dims)})";
    }

    public static IEnumerable<Case> Cases() =>
    [
        new([3, 17], [1, 0]),
        new([2, 3, 4], [0, 2, 1]),          // Transpose(x, -1, -2)
        new([2, 3, 4], [1, 0, 2]),          // last dim stays: rows
        new([2, 3, 4], [2, 0, 1]),          // merges to a 2-D transpose of [6, 4]
        new([2, 3, 4], [-1, -3, -2]),       // negative dims
        new([2, 3, 4], [0, 1, 2]),          // identity
        new([1, 3, 1, 17], [3, 2, 1, 0]),
        new([4, 257], [1, 0]),
        new([2, 257, 3], [2, 1, 0]),        // gather
        new([2, 3, 4, 5], [0, 2, 1, 3]),    // attention heads
        new([5], [0]),
        new([1], [-1]),
        new([], []),
        new([65, 67], [1, 0]),              // partial 32×32 tiles
        new([8, 70, 90], [0, 2, 1]),        // transpose on the engine's threads
        new([8, 40, 3, 50], [0, 2, 1, 3]),  // rows on the engine's threads
        new([6, 50, 7, 20], [3, 1, 0, 2]),  // gather on the engine's threads
    ];

    private static double[] Forward(DType dtype, double[] x, int[] shape, int[] dims)
    {
        var yShape = ModelGen.Ops.PermuteShape(new Shape(shape), dims);
        return TensorRef.Run(dtype, x, shape, yShape.Dims.ToArray(), (tx, ty) =>
        {
            if (dtype == DType.Float64) ModelGen.Ops.Permute<double>(tx, ty, dims);
            else ModelGen.Ops.Permute<float>(tx, ty, dims);
        });
    }

    [TestCaseSource(nameof(Cases))]
    public void Shape_IsThePermutedShape(Case c)
    {
        var (_, expected) = TensorRef.Permute(new double[TensorRef.Count(c.Shape)], c.Shape, c.Dims);
        Assert.That(ModelGen.Ops.PermuteShape(new Shape(c.Shape), c.Dims), Is.EqualTo(new Shape(expected)));
    }

    [TestCaseSource(nameof(Cases))]
    public void Forward_Float64_IsExact(Case c)
    {
        var x = Numerics.Randn(new Random(1), TensorRef.Count(c.Shape));
        var (expected, _) = TensorRef.Permute(x, c.Shape, c.Dims);
        Assert.That(Forward(DType.Float64, x, c.Shape, c.Dims), Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(Cases))]
    public void Forward_Float32_MatchesFloat64Reference(Case c)
    {
        var x = Numerics.Randn(new Random(2), TensorRef.Count(c.Shape));
        var (expected, _) = TensorRef.Permute(x, c.Shape, c.Dims);
        TensorRef.AssertClose(Forward(DType.Float32, x, c.Shape, c.Dims), expected, 1e-7, "y", atol: 1e-7);
    }

    [TestCaseSource(nameof(Cases))]
    public void Backward_MatchesFiniteDifferences_AndAccumulates(Case c)
    {
        var x = Numerics.Randn(new Random(3), TensorRef.Count(c.Shape));
        var gy = Numerics.Randn(new Random(4), x.Length);
        var yShape = ModelGen.Ops.PermuteShape(new Shape(c.Shape), c.Dims);
        var dx = Backward(gy, yShape, c.Shape, c.Dims, null);
        TensorRef.AssertGradient(v => Forward(DType.Float64, v, c.Shape, c.Dims), x, gy, dx, TensorRef.Coordinates(x.Length, 5), "dx");
        var dx0 = Numerics.Randn(new Random(6), x.Length);
        TensorRef.AssertClose(Backward(gy, yShape, c.Shape, c.Dims, dx0), dx.Zip(dx0, (a, b) => a + b).ToArray(), 1e-15, "dx accumulated");
        // float32: exact too (a permutation moves values)
        using var g32 = Tensor.From<double>(gy, yShape, DType.Float32);
        using var dx32 = Tensor.Zeros(new Shape(c.Shape), DType.Float32);
        ModelGen.Ops.PermuteBackward<float>(g32, dx32, c.Dims, false);
        TensorRef.AssertClose(dx32.ToDoubleArray(), dx, 1e-7, "dx float32", atol: 1e-7);
    }

    private static double[] Backward(double[] gy, Shape yShape, int[] xShape, int[] dims, double[]? dx0)
    {
        using var g = Tensor.From<double>(gy, yShape, DType.Float64);
        using var dx = dx0 is null ? Tensor.Zeros(new Shape(xShape), DType.Float64) : Tensor.From<double>(dx0, new Shape(xShape), DType.Float64);
        ModelGen.Ops.PermuteBackward<double>(g, dx, dims, dx0 is not null);
        return dx.ToDoubleArray();
    }

    [Test]
    public void NotAPermutation_IsAShapeError()
    {
        var e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.PermuteShape(new Shape(2, 3, 4), [0, 1]))!;
        Assert.That(e.Message, Is.EqualTo("Permute: dims [0, 1] for x [2, 3, 4]: expected 3 dims, a permutation of 0..2."));
        e = Assert.Throws<ShapeMismatchException>(() => ModelGen.Ops.PermuteShape(new Shape(2, 3, 4), [0, 2, -1]))!;
        Assert.That(e.Message, Is.EqualTo("Permute: dims [0, 2, -1] for x [2, 3, 4] are not a permutation of 0..2: dim 2 appears twice."));
    }

    [Test]
    public void DimOutOfRange_NamesTheDimAndTheRank()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.PermuteShape(new Shape(2, 3, 4), [0, 3, 1]))!;
        Assert.That(e.Message, Does.StartWith("Permute: dim 3 is out of range for a tensor of rank 3 (expected -3 to 2)"));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Ops.PermuteShape(new Shape(2, 3), [-3, 0]))!;
        Assert.That(e.Message, Does.StartWith("Permute: dim -3 is out of range for a tensor of rank 2"));
    }

    [Test, Category("Ilgpu")]
    public void OnIlgpu_SaysThereIsNoIlgpuFormYet()
    {
        using var x = Tensor.Zeros(new Shape(2, 3), DType.Float32, TensorRef.Gpu);
        using var y = Tensor.Zeros(new Shape(3, 2), DType.Float32, TensorRef.Gpu);
        var e = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.Permute<float>(x, y, [1, 0]))!;
        Assert.That(e.Message, Is.EqualTo("Permute has no ILGPU form yet (it comes with GPU part 2): run this model on Device.Cpu"));
        e = Assert.Throws<NotSupportedException>(() => ModelGen.Ops.PermuteBackward<float>(y, x, [1, 0], false))!;
        Assert.That(e.Message, Does.StartWith("PermuteBackward has no ILGPU form yet"));
    }
}
