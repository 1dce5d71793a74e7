using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// What every element-wise function op must do, checked for each by a subclass in a file of its own
/// (tests/ModelGen.Runtime.Tests/Ops/&lt;Op&gt;Tests.cs, next to its float64 reference): a compiled model that applies the op,
/// run on the CPU engine, against the float64 reference, at sizes that reach the scalar tails and the Vector256 and
/// Vector512 loops (1, 3, 17, 257 and a realistic 64×1031): float64 forward element by element (|a − b| ≤ 1e-13 +
/// 1e-12·|b|), float32 forward (≤ 1e-6 + 1e-5·|b|), float64 backward against Richardson finite differences of the
/// reference (|a − b| ≤ 1e-9 + 1e-6·|b|), float32 backward against the float64 one (norm-wise ≤ 1e-5), and the
/// extremes (±100, ±30, ±1e-30, 0) finite and exact. ModelGen.Ilgpu.Tests finds every subclass and runs its model on
/// ILGPU's CPU accelerator against the CPU engine.
/// </summary>
[Category("CpuEngine")]
public abstract class ElementwiseOpContract
{
    /// <summary>A [Model] whose Forward is the op applied to its input (ModelGen.Ilgpu.Tests runs it on ILGPU too).</summary>
    public abstract Module Create(Device device, DType dtype);

    /// <summary>The op in float64, written independently of the runtime's kernels.</summary>
    protected abstract double Reference(double x);

    /// <summary>Inputs are drawn from N(0, Scale²), then mapped by <see cref="Domain"/>.</summary>
    protected virtual double Scale => 3;

    /// <summary>Maps a drawn input into the op's domain (ln and √ need x &gt; 0; |x| needs x away from its kink at 0,
    /// where finite differences do not hold); the ILGPU comparison maps its inputs the same way.</summary>
    public virtual double Domain(double v) => v;

    /// <summary>Inputs at the extremes (mapped by <see cref="Domain"/>): their float64 results must be exact, float32 finite and close.</summary>
    protected virtual double[] ExtremeInputs => [-100, -30, -1e-30, 0, 1e-30, 30, 100, -20.5, 20.5, -5, 5, 1e-3, -1e-3, 0.5, -0.5, 2];

    public static IEnumerable<int[]> Shapes() => [[1, 1], [3, 1], [3, 3], [3, 17], [2, 257], [64, 1031]];

    private static dynamic Dyn(Module m) => m;

    private (double[] X, Shape Shape) Input(int[] dims, int seed)
    {
        var shape = new Shape(dims);
        return (Numerics.Randn(new Random(seed), shape.Count, Scale).Select(Domain).ToArray(), shape);
    }

    private static void AssertClose(double[] actual, double[] expected, double atol, double rtol, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= atol + rtol * Math.Abs(expected[i])))
                Assert.Fail($"{what}[{i}]: {actual[i]:R}, expected {expected[i]:R}");
    }

    private double[] Forward(DType dtype, double[] x, Shape shape)
    {
        using var model = Create(Device.Cpu, dtype);
        using var input = Tensor.From<double>(x, shape, dtype);
        Tensor y = Dyn(model).Run(input);
        return y.ToDoubleArray();
    }

    private double[] Backward(DType dtype, double[] x, double[] gy, Shape shape)
    {
        using var model = Create(Device.Cpu, dtype);
        using var input = Tensor.From<double>(x, shape, dtype);
        input.RequiresGrad = true;
        Dyn(model).Run(input);
        using var gradOutput = Tensor.From<double>(gy, shape, dtype);
        Dyn(model).Backward(gradOutput);
        return input.Grad!.ToDoubleArray();
    }

    [TestCaseSource(nameof(Shapes))]
    public void Forward_Float64_MatchesTheReference(int[] dims)
    {
        var (x, shape) = Input(dims, 11);
        AssertClose(Forward(DType.Float64, x, shape), x.Select(Reference).ToArray(), 1e-13, 1e-12, "float64 forward");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Forward_Float32_MatchesTheReference(int[] dims)
    {
        var (x, shape) = Input(dims, 12);
        var x32 = x.Select(v => (double)(float)v).ToArray();
        AssertClose(Forward(DType.Float32, x32, shape), x32.Select(Reference).ToArray(), 1e-6, 1e-5, "float32 forward");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Backward_Float64_MatchesFiniteDifferences(int[] dims)
    {
        var (x, shape) = Input(dims, 13);
        var gy = Numerics.Randn(new Random(14), x.Length);
        var analytic = Backward(DType.Float64, x, gy, shape);
        var numeric = x.Select((v, i) => gy[i] * Numerics.Derivative(t => Reference(v + t))).ToArray();
        Numerics.AssertGradient(analytic, numeric, what: "float64 backward");
    }

    [TestCaseSource(nameof(Shapes))]
    public void Backward_Float32_MatchesFloat64(int[] dims)
    {
        var (x, shape) = Input(dims, 15);
        var x32 = x.Select(v => (double)(float)v).ToArray();
        var gy = Numerics.Randn(new Random(16), x.Length).Select(v => (double)(float)v).ToArray();
        Assert.That(Numerics.RelativeError(Backward(DType.Float32, x32, gy, shape), Backward(DType.Float64, x32, gy, shape)), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void Extremes_AreFiniteAndExact()
    {
        var x = ExtremeInputs.Select(Domain).ToArray();
        var shape = new Shape(1, x.Length);
        var expected = x.Select(Reference).ToArray();
        AssertClose(Forward(DType.Float64, x, shape), expected, 1e-300, 1e-12, "float64 at the extremes");
        var y32 = Forward(DType.Float32, x, shape);
        Assert.That(y32.All(double.IsFinite), Is.True, string.Join(", ", y32));
        AssertClose(y32, expected, 1e-30, 2e-6, "float32 at the extremes");
        var grad = Backward(DType.Float64, x, Enumerable.Repeat(1.0, x.Length).ToArray(), shape);
        Assert.That(grad.All(double.IsFinite), Is.True, string.Join(", ", grad));
    }
}
