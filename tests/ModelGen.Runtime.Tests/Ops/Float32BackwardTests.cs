using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>The float32 SIMD paths of the big ops, forward and backward, against the same op in float64, at the shapes
/// fine-tuning really runs: MiniLM's attention (12 heads × 32, hidden 384, seq 64 and 128, with padding), its LayerNorm
/// and embeddings, a 64-channel 3×3 convolution at 28×28, the pooling ops and BatchNorm, plus odd sizes that reach the
/// vector tails. Both models hold the same (float-representable) weights and inputs, so only the arithmetic differs:
/// every output and gradient agrees norm-wise within 1e-4.</summary>
[Category("CpuEngine")]
public class Float32BackwardTests
{
    private const double Tolerance = 1e-4;

    /// <summary>One input: its shape, how to fill it, and whether it takes a gradient.</summary>
    private sealed record Input(Shape Shape, Func<Random, int, double> Value, bool Grad = true, bool Ids = false);

    private static double Gaussian(Random rng, int i) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static void Compare(string name, Func<DType, Module> make, Func<Module, Tensor[], Tensor> run, params Input[] inputs)
    {
        using var m64 = make(DType.Float64);
        using var m32 = make(DType.Float32);
        foreach (var (p64, p32) in m64.Parameters.Zip(m32.Parameters).Concat(m64.Buffers.Zip(m32.Buffers)))
        {
            p32.Value.CopyFrom<double>(p64.Value.ToDoubleArray());
            p64.Value.CopyFrom<float>(p32.Value.ToArray()); // both now hold the float-rounded values
        }
        var rng = new Random(name.Length * 7919 + inputs.Length);
        var values = inputs.Select(input => Enumerable.Range(0, input.Shape.Count).Select(i => (double)(float)input.Value(rng, i)).ToArray()).ToArray();
        var t64 = inputs.Select((input, i) => Tensor.From<double>(values[i], input.Shape, input.Ids ? DType.Int64 : DType.Float64)).ToArray();
        var t32 = inputs.Select((input, i) => Tensor.From<double>(values[i], input.Shape, input.Ids ? DType.Int32 : DType.Float32)).ToArray();
        try
        {
            for (int i = 0; i < inputs.Length; i++) t64[i].RequiresGrad = t32[i].RequiresGrad = inputs[i].Grad;
            var y64 = run(m64, t64);
            var y32 = run(m32, t32);
            Check($"{name} output", y32.ToDoubleArray(), y64.ToDoubleArray());
            var gy = Enumerable.Range(0, y64.Count).Select(i => (double)(float)Gaussian(rng, i)).ToArray();
            using var g64 = Tensor.From<double>(gy, y64.Shape, DType.Float64);
            using var g32 = Tensor.From<double>(gy, y32.Shape, DType.Float32);
            Backward(m64, g64);
            Backward(m32, g32);
            foreach (var (p64, p32) in m64.Parameters.Zip(m32.Parameters))
                Check($"{name} d{p64.Name}", p32.Grad.ToDoubleArray(), p64.Grad.ToDoubleArray());
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i].Grad) Check($"{name} d(input {i})", t32[i].Grad!.ToDoubleArray(), t64[i].Grad!.ToDoubleArray());
        }
        finally
        {
            foreach (var t in t64.Concat(t32)) t.Dispose();
        }
    }

    private static void Backward(Module m, Tensor gradOutput)
        => m.GetType().GetMethod("Backward", [typeof(Tensor)])!.Invoke(m, [gradOutput]);

    private static void Check(string what, double[] float32, double[] float64)
    {
        double error = Numerics.RelativeError(float32, float64);
        TestContext.Out.WriteLine($"{what}: relative error {error:E2}");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance), what);
        Assert.That(float64.Any(v => v != 0), Is.True, $"{what} is not trivially zero");
    }

    private static Input Mask(int batch, int seq) => new(new Shape(batch, seq), (_, i) => i % seq < seq - 7 * (i / seq) ? 1 : 0, Grad: false);

    [TestCase(4, 64, 384, 12)]
    [TestCase(3, 128, 384, 12)]
    [TestCase(2, 67, 391 - 391 % 17, 17)]
    public void Attention(int batch, int seq, int hidden, int heads)
    {
        var x = new Shape(batch, seq, hidden);
        Compare($"attention {batch}x{seq}x{hidden}/{heads}", d => new AttentionOp(heads, d), (m, t) => ((AttentionOp)m).Run(t[0], t[1], t[2], t[3]),
            new Input(x, Gaussian), new Input(x, Gaussian), new Input(x, Gaussian), Mask(batch, seq));
    }

    [TestCase(4, 128, 384)]
    [TestCase(3, 67, 391)]
    public void LayerNorm(int batch, int seq, int dim)
        => Compare($"layernorm {batch}x{seq}x{dim}", d => new LayerNormOp(dim, d), (m, t) => ((LayerNormOp)m).Run(t[0]),
            new Input(new Shape(batch, seq, dim), (r, i) => 3 * Gaussian(r, i) + 0.5));

    [TestCase(4, 128, 384, 1000)]
    [TestCase(3, 67, 391, 257)]
    public void Embedding(int batch, int seq, int dim, int vocab)
        => Compare($"embedding {batch}x{seq}x{dim}", d => new EmbeddingTableOp(vocab, dim, d), (m, t) => ((EmbeddingTableOp)m).Run(t[0]),
            new Input(new Shape(batch, seq), (r, _) => r.Next(vocab), Grad: false, Ids: true));

    [TestCase(2, 64, 64, 28, 28, 3, 1, 1)]
    [TestCase(2, 3, 17, 29, 31, 5, 2, 2)]
    public void Conv2d(int n, int cin, int cout, int h, int w, int k, int stride, int pad)
        => Compare($"conv {cin}->{cout} {k}x{k} at {h}x{w}", d => new ConvOp(cin, cout, k, stride, pad, 1, 1, true, d), (m, t) => ((ConvOp)m).Run(t[0]),
            new Input(new Shape(n, cin, h, w), Gaussian));

    [TestCase(2, 64, 28, 28, 2, 2, 0)]
    [TestCase(3, 17, 29, 31, 3, 2, 1)]
    public void Pooling(int n, int c, int h, int w, int k, int stride, int pad)
    {
        var x = new Input(new Shape(n, c, h, w), Gaussian);
        Compare($"maxpool {k}/{stride} at {h}x{w}", d => new MaxPoolOp(k, stride, pad, d), (m, t) => ((MaxPoolOp)m).Run(t[0]), x);
        Compare($"avgpool {k}/{stride} at {h}x{w}", d => new AvgPoolOp(k, stride, pad, d), (m, t) => ((AvgPoolOp)m).Run(t[0]), x);
        Compare($"adaptive avgpool at {h}x{w}", d => new AdaptiveAvgPoolOp(7, 5, d), (m, t) => ((AdaptiveAvgPoolOp)m).Run(t[0]), x);
    }

    [TestCase(4, 64, 28, 28)]
    [TestCase(3, 17, 29, 31)]
    public void BatchNorm2d(int n, int c, int h, int w)
        => Compare($"batchnorm {c} at {h}x{w}", d => new BatchNormOp(c, d), (m, t) => ((BatchNormOp)m).Run(t[0]),
            new Input(new Shape(n, c, h, w), (r, i) => 2 * Gaussian(r, i) + 1));
}
