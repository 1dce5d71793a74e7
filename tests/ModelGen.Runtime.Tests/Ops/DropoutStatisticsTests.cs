using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>Every dropout keeps its promise: over at least 10⁶ elements (channels for Dropout2d, attention
/// probabilities for the attention-probability dropout) the drop rate lies within 4.5 binomial standard deviations of
/// p, survivors are scaled by exactly 1/(1 − p), and eval mode is the identity, bit for bit.</summary>
[TestFixture]
[Category("CpuEngine")]
public class DropoutStatisticsTests
{
    private static void AssertRate(long dropped, long total, double p, string what)
    {
        double sd = Math.Sqrt(total * p * (1 - p));
        TestContext.Out.WriteLine($"{what}: dropped {dropped} of {total} (expected {total * p:F0} ± {sd:F0}, p = {p})");
        Assert.That(total, Is.GreaterThanOrEqualTo(1_000_000), what);
        Assert.That(Math.Abs(dropped - total * p), Is.LessThanOrEqualTo(4.5 * sd), $"{what}: drop rate {dropped / (double)total:F5} against p = {p}");
    }

    [TestCase(0.1)]
    [TestCase(0.5)]
    [TestCase(0.0)]
    public void Dropout_DropRate_ExactScale_EvalIdentity(double p)
    {
        const int rows = 1000, cols = 1031;
        var x = new float[rows * cols];
        var rng = new Random(5);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() + 0.5); // never zero, so a zero is a drop
        using var model = new DropoutOp(p, DType.Float32);
        using var xt = Tensor.From(x, rows, cols);
        var y = model.Run(xt).ToArray();
        float keep = (float)(1 / (1 - p));
        long dropped = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (y[i] == 0) { dropped++; continue; }
            Assert.That(y[i], Is.EqualTo(x[i] * keep), $"element {i} scaled by exactly 1/(1 − p)");
        }
        if (p == 0) Assert.That(dropped, Is.Zero);
        else AssertRate(dropped, x.Length, p, "Dropout");
        if (p > 0) Assert.That(model.Run(xt).ToArray(), Is.Not.EqualTo(y), "a new mask each step");
        model.Eval();
        var eval = model.Run(xt).ToArray();
        for (int i = 0; i < x.Length; i++)
            Assert.That(BitConverter.SingleToInt32Bits(eval[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(x[i])), $"eval is the identity at {i}");
    }

    [TestCase(0.2)]
    public void Dropout2d_DropsWholeChannelsAtTheRate_ExactScale_EvalIdentity(double p)
    {
        const int batch = 1000, channels = 1009, pixels = 2;
        var x = new float[batch * channels * pixels];
        var rng = new Random(6);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() + 0.5);
        using var model = new ChannelDropoutOp(p, DType.Float32);
        using var xt = Tensor.From(x, batch, channels, 1, pixels);
        var y = model.Run(xt).ToArray();
        float keep = (float)(1 / (1 - p));
        long dropped = 0;
        for (int c = 0; c < batch * channels; c++)
        {
            bool zero = y[c * pixels] == 0;
            if (zero) dropped++;
            for (int i = c * pixels; i < (c + 1) * pixels; i++)
                Assert.That(y[i], Is.EqualTo(zero ? 0f : x[i] * keep), $"channel {c}: all or nothing, scaled by exactly 1/(1 − p)");
        }
        AssertRate(dropped, batch * channels, p, "Dropout2d");
        model.Eval();
        var eval = model.Run(xt).ToArray();
        for (int i = 0; i < x.Length; i++) Assert.That(BitConverter.SingleToInt32Bits(eval[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(x[i])));
    }

    /// <summary>With Q = K = 0 every probability is exactly 1/seq, and with V_h the identity the context is the dropped
    /// probabilities themselves, so the attention-probability dropout is observable element by element.</summary>
    [TestCase(0.1)]
    [TestCase(0.3)]
    public void AttentionProbabilityDropout_DropRate_ExactScale_EvalIdentity(double p)
    {
        const int batch = 256, heads = 4, seq = 32, hidden = heads * seq;
        var v = new float[batch * seq * hidden];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
                for (int h = 0; h < heads; h++) v[(b * seq + t) * hidden + h * seq + t] = 1;
        using var q = Tensor.Zeros(batch, seq, hidden);
        using var vt = Tensor.From(v, batch, seq, hidden);
        using var mask = Tensor.From(Enumerable.Repeat(1f, batch * seq).ToArray(), batch, seq);
        using var model = new AttentionDropoutOp(heads, p, DType.Float32);
        var y = model.Run(q, q, vt, mask).ToArray();
        float probability = 1f / seq, kept = probability * (float)(1 / (1 - p));
        long dropped = 0;
        foreach (var value in y)
        {
            if (value == 0) { dropped++; continue; }
            Assert.That(value, Is.EqualTo(kept), "a surviving probability is scaled by exactly 1/(1 − p)");
        }
        AssertRate(dropped, y.Length, p, "attention-probability dropout");
        var second = model.Run(q, q, vt, mask).ToArray();
        Assert.That(second, Is.Not.EqualTo(y), "a new mask each step");

        model.Eval();
        var eval = model.Run(q, q, vt, mask).ToArray();
        using var plain = new AttentionOp(heads, DType.Float32);
        var reference = plain.Run(q, q, vt, mask).ToArray();
        Assert.That(eval.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(reference.Select(BitConverter.SingleToInt32Bits)), "eval: attention without dropout, bit for bit");
        Assert.That(eval.All(e => e == probability), Is.True);
    }

    /// <summary>In training, with the mask held fixed (the same step), the derived backward of attention with
    /// probability dropout matches central differences of the forward pass (float64, with padding).</summary>
    [TestCase(2, 5, 8, 2)]
    [TestCase(3, 17, 12, 3)]
    public void AttentionProbabilityDropout_Backward_MatchesFiniteDifferences(int batch, int seq, int hidden, int heads)
    {
        var rng = new Random(batch * 31 + seq);
        int n = batch * seq * hidden;
        double[] q = Numerics.Randn(rng, n), k = Numerics.Randn(rng, n), v = Numerics.Randn(rng, n), gy = Numerics.Randn(rng, n);
        var mask = new double[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++) mask[b * seq + t] = t < seq - b ? 1 : 0;
        var shape = new Shape(batch, seq, hidden);
        using var m = new AttentionDropoutOp(heads, 0.3, DType.Float64);
        using var mt = Tensor.From<double>(mask, new Shape(batch, seq), DType.Float64);
        double[] F(double[] qv, double[] kv, double[] vv)
        {
            m.Step = 0; // the same mask every time
            using var a = Tensor.From<double>(qv, shape, DType.Float64);
            using var b = Tensor.From<double>(kv, shape, DType.Float64);
            using var c = Tensor.From<double>(vv, shape, DType.Float64);
            return m.Run(a, b, c, mt).ToDoubleArray();
        }
        using var plain = new AttentionOp(heads, DType.Float64);
        using (var a = Tensor.From<double>(q, shape, DType.Float64))
        using (var b = Tensor.From<double>(k, shape, DType.Float64))
        using (var c = Tensor.From<double>(v, shape, DType.Float64))
            Assert.That(Numerics.RelativeError(F(q, k, v), plain.Run(a, b, c, mt).ToDoubleArray()), Is.GreaterThan(1e-3), "the dropout changes the output");

        m.Step = 0;
        using var qt = Tensor.From<double>(q, shape, DType.Float64);
        using var kt = Tensor.From<double>(k, shape, DType.Float64);
        using var vt = Tensor.From<double>(v, shape, DType.Float64);
        qt.RequiresGrad = kt.RequiresGrad = vt.RequiresGrad = true;
        m.Run(qt, kt, vt, mt);
        using var g = Tensor.From<double>(gy, shape, DType.Float64);
        m.Backward(g);
        var all = Enumerable.Range(0, n).ToArray();
        var dq = Numerics.FiniteDifferenceVjp(x => F(x, k, v), q, gy, all);
        var dk = Numerics.FiniteDifferenceVjp(x => F(q, x, v), k, gy, all);
        var dv = Numerics.FiniteDifferenceVjp(x => F(q, k, x), v, gy, all);
        Numerics.AssertGradient(qt.Grad!.ToDoubleArray(), dq, what: "dq");
        Numerics.AssertGradient(kt.Grad!.ToDoubleArray(), dk, what: "dk");
        Numerics.AssertGradient(vt.Grad!.ToDoubleArray(), dv, what: "dv");
    }
}
