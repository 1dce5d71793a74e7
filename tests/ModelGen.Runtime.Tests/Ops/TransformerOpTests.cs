using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>Transformer ops: float32 vs a float64 reference, float64 backward vs central finite differences.</summary>
[Category("CpuEngine")]
public class TransformerOpTests
{
    private static double[] RefLayerNorm(double[] x, int n, double[] w, double[] b, double eps)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / n; r++)
        {
            var row = x.AsSpan(r * n, n);
            double mean = 0;
            foreach (var v in row) mean += v;
            mean /= n;
            double var = 0;
            foreach (var v in row) var += (v - mean) * (v - mean);
            double rstd = 1 / Math.Sqrt(var / n + eps);
            for (int c = 0; c < n; c++) y[r * n + c] = (row[c] - mean) * rstd * w[c] + b[c];
        }
        return y;
    }

    private static double[] RefAttention(double[] q, double[] k, double[] v, double[] mask, int batch, int seq, int hidden, int heads)
    {
        int d = hidden / heads;
        var ctx = new double[q.Length];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < seq; i++)
                {
                    var s = new double[seq];
                    for (int j = 0; j < seq; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += q[(b * seq + i) * hidden + h * d + c] * k[(b * seq + j) * hidden + h * d + c];
                        s[j] = dot / Math.Sqrt(d) + (1 - mask[b * seq + j]) * -10000;
                    }
                    var p = Ref.Softmax(s, seq, log: false);
                    for (int c = 0; c < d; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < seq; j++) acc += p[j] * v[(b * seq + j) * hidden + h * d + c];
                        ctx[(b * seq + i) * hidden + h * d + c] = acc;
                    }
                }
        return ctx;
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(17)]
    [TestCase(257)]
    public void LayerNorm_ForwardAndBackward(int n)
    {
        var rng = new Random(n);
        var x = Numerics.Randn(rng, 3 * n, 2);
        using (var m32 = new LayerNormOp(n, DType.Float32))
        {
            m32.Parameter("norm.weight").Value.CopyFrom<double>(Numerics.Randn(rng, n));
            using var xt = Tensor.From<double>(x, new Shape(3, n), DType.Float32);
            var w = m32.Parameter("norm.weight").Value.ToDoubleArray();
            var expected = RefLayerNorm(Numerics.ToDouble(xt.ToArray()), n, w, new double[n], 1e-5);
            Assert.That(Numerics.RelativeError(Numerics.ToDouble(m32.Run(xt).ToArray()), expected), Is.LessThanOrEqualTo(1e-5));
        }
        using var m = new LayerNormOp(n, DType.Float64);
        var weight = Numerics.Randn(rng, n);
        var bias = Numerics.Randn(rng, n);
        m.Parameter("norm.weight").Value.CopyFrom<double>(weight);
        m.Parameter("norm.bias").Value.CopyFrom<double>(bias);
        using var input = Tensor.From<double>(x, new Shape(3, n), DType.Float64);
        input.RequiresGrad = true;
        var y = m.Run(input);
        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        var all = Enumerable.Range(0, x.Length);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), Numerics.FiniteDifferenceVjp(v => RefLayerNorm(v, n, weight, bias, 1e-5), x, gy, all), 1e-6, "dx");
        Numerics.AssertGradient(m.Parameter("norm.weight").Grad.ToDoubleArray(), Numerics.FiniteDifferenceVjp(v => RefLayerNorm(x, n, v, bias, 1e-5), weight, gy, Enumerable.Range(0, n)), 1e-6, "dw");
        Numerics.AssertGradient(m.Parameter("norm.bias").Grad.ToDoubleArray(), Numerics.FiniteDifferenceVjp(v => RefLayerNorm(x, n, weight, v, 1e-5), bias, gy, Enumerable.Range(0, n)), 1e-6, "db");
    }

    [Test]
    public void Embedding_LooksUp_ScattersGradients_AndSkipsPadding()
    {
        using var m = new EmbeddingOp(Device.Cpu, 1, DType.Float64);
        var table = m.Parameter("table.weight").Value.ToDoubleArray();
        Assert.That(table.Take(7).All(v => v == 0), Is.True, "the padding row starts at zero");
        var ids = new double[] { 3, 0, 3, 10, 1, 0 };
        using var idt = Tensor.From<double>(ids, new Shape(2, 3), DType.Int64);
        var y = m.Run(idt).ToDoubleArray();
        for (int i = 0; i < ids.Length; i++)
            Assert.That(y.AsSpan(i * 7, 7).ToArray(), Is.EqualTo(table.AsSpan((int)ids[i] * 7, 7).ToArray()));
        var gy = Numerics.Randn(new Random(3), y.Length);
        using var g = Tensor.From<double>(gy, new Shape(2, 3, 7), DType.Float64);
        m.Backward(g);
        var grad = m.Parameter("table.weight").Grad.ToDoubleArray();
        var expected = new double[grad.Length];
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] != 0)
                for (int c = 0; c < 7; c++) expected[(int)ids[i] * 7 + c] += gy[i * 7 + c];
        Assert.That(grad, Is.EqualTo(expected).Within(1e-12));
        using var bad = Tensor.From<double>([1, 11], new Shape(1, 2), DType.Int64);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => m.Run(bad))!;
        Assert.That(e.Message, Does.Contain("token id 11 at position (0, 1)").And.Contain("vocabulary of 11"));
    }

    [TestCase(1, 1, 4, 1)]
    [TestCase(2, 3, 8, 2)]
    [TestCase(3, 17, 12, 3)]
    public void Attention_ForwardAndBackward_WithPadding(int batch, int seq, int hidden, int heads)
    {
        var rng = new Random(batch * 100 + seq);
        int n = batch * seq * hidden;
        var q = Numerics.Randn(rng, n);
        var k = Numerics.Randn(rng, n);
        var v = Numerics.Randn(rng, n);
        var mask = new double[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++) mask[b * seq + t] = t < seq - b ? 1 : 0; // sequence b has b padding positions
        var shape = new Shape(batch, seq, hidden);
        using (var m32 = new AttentionOp(heads, DType.Float32))
        {
            using var q32 = Tensor.From<double>(q, shape, DType.Float32);
            using var k32 = Tensor.From<double>(k, shape, DType.Float32);
            using var v32 = Tensor.From<double>(v, shape, DType.Float32);
            using var mk32 = Tensor.From<double>(mask, new Shape(batch, seq), DType.Float32);
            var expected = RefAttention(Numerics.ToDouble(q32.ToArray()), Numerics.ToDouble(k32.ToArray()), Numerics.ToDouble(v32.ToArray()), mask, batch, seq, hidden, heads);
            Assert.That(Numerics.RelativeError(Numerics.ToDouble(m32.Run(q32, k32, v32, mk32).ToArray()), expected), Is.LessThanOrEqualTo(1e-5));
        }
        using var m = new AttentionOp(heads, DType.Float64);
        using var qt = Tensor.From<double>(q, shape, DType.Float64);
        using var kt = Tensor.From<double>(k, shape, DType.Float64);
        using var vt = Tensor.From<double>(v, shape, DType.Float64);
        using var mt = Tensor.From<double>(mask, new Shape(batch, seq), DType.Float64);
        qt.RequiresGrad = kt.RequiresGrad = vt.RequiresGrad = true;
        var y = m.Run(qt, kt, vt, mt);
        Assert.That(Numerics.RelativeError(y.ToDoubleArray(), RefAttention(q, k, v, mask, batch, seq, hidden, heads)), Is.LessThanOrEqualTo(1e-12));
        var gy = Numerics.Randn(rng, n);
        using var g = Tensor.From<double>(gy, shape, DType.Float64);
        m.Backward(g);
        var all = Enumerable.Range(0, n);
        Numerics.AssertGradient(qt.Grad!.ToDoubleArray(), Numerics.FiniteDifferenceVjp(x => RefAttention(x, k, v, mask, batch, seq, hidden, heads), q, gy, all), 1e-6, "dq");
        Numerics.AssertGradient(kt.Grad!.ToDoubleArray(), Numerics.FiniteDifferenceVjp(x => RefAttention(q, x, v, mask, batch, seq, hidden, heads), k, gy, all), 1e-6, "dk");
        Numerics.AssertGradient(vt.Grad!.ToDoubleArray(), Numerics.FiniteDifferenceVjp(x => RefAttention(q, k, x, mask, batch, seq, hidden, heads), v, gy, all), 1e-6, "dv");
    }

    [Test]
    public void Attention_HeadsThatDoNotDivideTheHiddenSize_AreAClearError()
    {
        using var m = new AttentionOp(5, DType.Float32);
        using var x = Tensor.Zeros(1, 2, 8);
        using var mask = Tensor.Zeros(1, 2);
        Assert.That(Assert.Throws<ShapeMismatchException>(() => m.Run(x, x, x, mask))!.Message, Does.Contain("5 heads do not divide the hidden size 8"));
    }

    [Test]
    public void FirstToken_ForwardAndBackward()
    {
        using var m = new FirstTokenOp(Device.Cpu, 0, DType.Float64);
        var x = Numerics.Randn(new Random(5), 2 * 3 * 4);
        using var xt = Tensor.From<double>(x, new Shape(2, 3, 4), DType.Float64);
        xt.RequiresGrad = true;
        Assert.That(m.Run(xt).ToDoubleArray(), Is.EqualTo(x.AsSpan(0, 4).ToArray().Concat(x.AsSpan(12, 4).ToArray())));
        using var g = Tensor.From<double>(Enumerable.Range(1, 8).Select(i => (double)i).ToArray(), new Shape(2, 4), DType.Float64);
        m.Backward(g);
        var dx = xt.Grad!.ToDoubleArray();
        Assert.That(dx.AsSpan(0, 4).ToArray(), Is.EqualTo(new double[] { 1, 2, 3, 4 }));
        Assert.That(dx.AsSpan(4, 8).ToArray().All(v => v == 0), Is.True);
        Assert.That(dx.AsSpan(12, 4).ToArray(), Is.EqualTo(new double[] { 5, 6, 7, 8 }));
    }

    [Test]
    public void TinyBert_EndToEnd_GradientsMatchFiniteDifferences()
    {
        using var model = new TinyBertClassifier(Device.Cpu, 4, DType.Float64);
        var ids = new double[] { 5, 7, 9, 2, 0, 0, 3, 4, 1, 8, 6, 11 };
        var pos = new double[] { 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5 };
        var mask = new double[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 };
        using var idt = Tensor.From<double>(ids, new Shape(2, 6), DType.Int64);
        using var pt = Tensor.From<double>(pos, new Shape(2, 6), DType.Int64);
        using var mt = Tensor.From<double>(mask, new Shape(2, 6), DType.Float64);
        int[] labels = [2, 0];
        double Loss() => model.CrossEntropy(idt, pt, mt, labels);
        model.ZeroGrad();
        Loss();
        model.Backward();
        var rng = new Random(8);
        Numerics.AssertDirectionalDerivatives(model, Loss, rng);
        // a padded position's token changes nothing
        var before = model.Run(idt, pt, mt).ToDoubleArray();
        idt.AsSpan<long>()[5] = 13;
        Assert.That(Numerics.RelativeError(model.Run(idt, pt, mt).ToDoubleArray(), before), Is.LessThanOrEqualTo(1e-9));
    }
}
