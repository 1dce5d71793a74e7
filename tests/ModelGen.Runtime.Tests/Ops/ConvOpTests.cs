using ModelGen.Optim;
using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>The convolutional ops: float32 kernels vs a float64 reference, the generated float64 backward vs central
/// finite differences, on odd shapes (non-square inputs, stride 2 and 3, padding, dilation 2, groups, 1×1, batch 1);
/// BatchNorm's running statistics vs PyTorch's formulas; buffers saved and loaded, never trained.</summary>
[Category("CpuEngine")]
public class ConvOpTests
{
    private static Tensor Input(double[] values, Shape shape, DType dtype, bool grad = false)
    {
        var t = Tensor.From<double>(values, shape, dtype);
        t.RequiresGrad = grad;
        return t;
    }

    private static double[] All(Func<double[], double[]> f, double[] at, double[] gy) => Numerics.FiniteDifferenceVjp(f, at, gy, Enumerable.Range(0, at.Length));

    // batch, in, out, height, width, kernel, stride, padding, dilation, groups, bias
    [TestCase(1, 1, 2, 5, 7, 3, 1, 0, 1, 1, true, TestName = "Conv2d_Batch1_NonSquare")]
    [TestCase(2, 3, 4, 6, 5, 3, 2, 1, 1, 1, true, TestName = "Conv2d_Stride2_Padding1")]
    [TestCase(3, 4, 6, 7, 6, 3, 1, 2, 2, 2, true, TestName = "Conv2d_Dilation2_Groups2_Padding2")]
    [TestCase(2, 6, 3, 4, 5, 1, 1, 0, 1, 3, false, TestName = "Conv2d_1x1_Groups3_NoBias")]
    [TestCase(2, 3, 2, 5, 5, 1, 2, 0, 1, 1, true, TestName = "Conv2d_1x1_Stride2")]
    [TestCase(5, 2, 3, 9, 8, 4, 3, 1, 1, 1, true, TestName = "Conv2d_EvenKernel_Stride3_Batch5")]
    public void Conv2d_ForwardAndBackward(int n, int cin, int cout, int h, int w, int k, int stride, int pad, int dilation, int groups, bool bias)
    {
        var rng = new Random(n * 1000 + cin * 100 + k);
        var xShape = new Shape(n, cin, h, w);
        var x = Numerics.Randn(rng, xShape.Count);
        using (var m32 = new ConvOp(cin, cout, k, stride, pad, dilation, groups, bias, DType.Float32))
        {
            using var xt = Input(x, xShape, DType.Float32);
            var w32 = m32.Parameter("conv.weight").Value.ToDoubleArray();
            var b32 = bias ? m32.Parameter("conv.bias").Value.ToDoubleArray() : null;
            var expected = ConvRef.Conv2d(Numerics.ToDouble(xt.ToArray()), n, cin, h, w, w32, b32, cout, k, stride, pad, dilation, groups);
            var y = m32.Run(xt);
            Assert.That(y.Shape, Is.EqualTo(new Shape(n, cout, ConvRef.OutputSize(h, k, stride, pad, dilation), ConvRef.OutputSize(w, k, stride, pad, dilation))));
            Assert.That(Numerics.RelativeError(Numerics.ToDouble(y.ToArray()), expected), Is.LessThanOrEqualTo(1e-5), "float32 forward");
        }
        using var m = new ConvOp(cin, cout, k, stride, pad, dilation, groups, bias, DType.Float64);
        var weight = m.Parameter("conv.weight").Value.ToDoubleArray();
        var biasValues = bias ? m.Parameter("conv.bias").Value.ToDoubleArray() : null;
        double[] F(double[] xs, double[] ws, double[]? bs) => ConvRef.Conv2d(xs, n, cin, h, w, ws, bs, cout, k, stride, pad, dilation, groups);
        using var input = Input(x, xShape, DType.Float64, grad: true);
        var yt = m.Run(input);
        Assert.That(Numerics.RelativeError(yt.ToDoubleArray(), F(x, weight, biasValues)), Is.LessThanOrEqualTo(1e-12), "float64 forward");
        var gy = Numerics.Randn(rng, yt.Count);
        using var g = Tensor.From<double>(gy, yt.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(v => F(v, weight, biasValues), x, gy), 1e-7, "dx");
        Numerics.AssertGradient(m.Parameter("conv.weight").Grad.ToDoubleArray(), All(v => F(x, v, biasValues), weight, gy), 1e-7, "dW");
        if (bias)
            Numerics.AssertGradient(m.Parameter("conv.bias").Grad.ToDoubleArray(), All(v => F(x, weight, v), biasValues!, gy), 1e-7, "db");
        // parameter gradients accumulate over backward passes, like PyTorch's
        var first = m.Parameter("conv.weight").Grad.ToDoubleArray();
        m.Run(input);
        m.Backward(g);
        Assert.That(Numerics.RelativeError(m.Parameter("conv.weight").Grad.ToDoubleArray(), first.Select(v => 2 * v).ToArray()), Is.LessThanOrEqualTo(1e-12), "dW accumulates");
    }

    [Test]
    public void Conv2d_WithFusedRelu_ThenAnotherConv_MatchesFiniteDifferences()
    {
        using var m = new ConvReluConv(Device.Cpu, 3, DType.Float64);
        var rng = new Random(11);
        var shape = new Shape(2, 3, 6, 5);
        var x = Numerics.Randn(rng, shape.Count);
        var w1 = m.Parameter("conv1.weight").Value.ToDoubleArray();
        var b1 = m.Parameter("conv1.bias").Value.ToDoubleArray();
        var w2 = m.Parameter("conv2.weight").Value.ToDoubleArray();
        var b2 = m.Parameter("conv2.bias").Value.ToDoubleArray();
        double[] F(double[] xs, double[] weight1) =>
            ConvRef.Conv2d(Ref.Map(ConvRef.Conv2d(xs, 2, 3, 6, 5, weight1, b1, 4, 3, 1, 1, 1, 1), Ref.Relu), 2, 4, 6, 5, w2, b2, 2, 3, 2, 0, 1, 1);
        using var input = Input(x, shape, DType.Float64, grad: true);
        var y = m.Run(input);
        Assert.That(Numerics.RelativeError(y.ToDoubleArray(), F(x, w1)), Is.LessThanOrEqualTo(1e-12));
        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(v => F(v, w1), x, gy), 1e-6, "dx");
        Numerics.AssertGradient(m.Parameter("conv1.weight").Grad.ToDoubleArray(), All(v => F(x, v), w1, gy), 1e-6, "dW1");
    }

    [Test]
    public void Conv2d_FanOut_AccumulatesTheInputGradient()
    {
        using var m = new ConvFanOut(Device.Cpu, 4, DType.Float64);
        var rng = new Random(12);
        var shape = new Shape(3, 2, 4, 7);
        var x = Numerics.Randn(rng, shape.Count);
        var wa = m.Parameter("a.weight").Value.ToDoubleArray();
        var ba = m.Parameter("a.bias").Value.ToDoubleArray();
        var wb = m.Parameter("b.weight").Value.ToDoubleArray();
        var bb = m.Parameter("b.bias").Value.ToDoubleArray();
        double[] F(double[] xs)
        {
            var a = ConvRef.Conv2d(xs, 3, 2, 4, 7, wa, ba, 3, 3, 1, 1, 1, 1);
            var b = ConvRef.Conv2d(xs, 3, 2, 4, 7, wb, bb, 3, 1, 1, 0, 1, 1);
            return a.Zip(b, (p, q) => p + q).ToArray();
        }
        using var input = Input(x, shape, DType.Float64, grad: true);
        var y = m.Run(input);
        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(F, x, gy), 1e-7);
    }

    [Test]
    public void Conv2d_Init_IsKaimingUniformOverFanIn_PerGroup()
    {
        using var m = new ConvOp(8, 6, 3, 1, 0, 1, 2, true, DType.Float64);
        double bound = 1 / Math.Sqrt(8 / 2 * 3 * 3);
        var w = m.Parameter("conv.weight");
        Assert.That(w.Shape, Is.EqualTo(new Shape(6, 4, 3, 3)));
        Assert.That(w.Value.ToDoubleArray().All(v => Math.Abs(v) <= bound), Is.True);
        Assert.That(w.Value.ToDoubleArray().Max(Math.Abs), Is.GreaterThan(0.9 * bound), "spans the bound");
        Assert.That(m.Parameter("conv.bias").Value.ToDoubleArray().All(v => Math.Abs(v) <= bound), Is.True);
    }

    [Test]
    public void Conv2d_ShapeGuards_NameTheLayer()
    {
        using var m = new ConvOp(3, 4, 5, 1, 1, 1, 1, true, DType.Float32);
        using var wrongChannels = Tensor.Zeros(2, 2, 8, 8);
        Assert.That(Assert.Throws<ShapeMismatchException>(() => m.Run(wrongChannels))!.Message,
            Does.Contain("conv (Conv2d(3, 4, kernel_size=5, stride=1, padding=1)) expects 3 input channels but got [2, 2, 8, 8]"));
        using var tooSmall = Tensor.Zeros(1, 3, 2, 8);
        Assert.That(Assert.Throws<ShapeMismatchException>(() => m.Run(tooSmall))!.Message, Does.Contain("smaller than the kernel's extent 5"));
        using var flat = Tensor.Zeros(2, 3);
        Assert.That(Assert.Throws<ShapeMismatchException>(() => m.Run(flat))!.Message, Does.Contain("expects NCHW input [batch, 3, height, width] but got [2, 3]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(4, 6, 3, groups: 4));
    }

    // kernel, stride, padding, height, width
    [TestCase(2, 2, 0, 6, 7)]
    [TestCase(3, 2, 1, 7, 5)]
    [TestCase(3, 1, 1, 4, 6)]
    [TestCase(2, 1, 0, 2, 5)]
    public void MaxPool2d_ForwardAndBackward(int k, int stride, int pad, int h, int w)
    {
        var rng = new Random(k * 10 + h);
        var shape = new Shape(2, 3, h, w);
        var x = Numerics.Randn(rng, shape.Count);
        int planes = 6;
        using (var m32 = new MaxPoolOp(k, stride, pad, DType.Float32))
        {
            using var xt = Input(x, shape, DType.Float32);
            Assert.That(Numerics.ToDouble(m32.Run(xt).ToArray()), Is.EqualTo(ConvRef.Pool(Numerics.ToDouble(xt.ToArray()), planes, h, w, k, stride, pad, max: true)), "max is exact");
        }
        using var m = new MaxPoolOp(k, stride, pad, DType.Float64);
        using var input = Input(x, shape, DType.Float64, grad: true);
        var y = m.Run(input);
        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(v => ConvRef.Pool(v, planes, h, w, k, stride, pad, max: true), x, gy), 1e-7);
    }

    [Test]
    public void MaxPool2d_Ties_GoToTheFirstMaximum()
    {
        using var m = new MaxPoolOp(2, 2, 0, DType.Float64);
        using var x = Input([1, 3, 3, 2], new Shape(1, 1, 2, 2), DType.Float64, grad: true);
        Assert.That(m.Run(x).ToDoubleArray(), Is.EqualTo(new double[] { 3 }));
        using var g = Tensor.From<double>([1.0], new Shape(1, 1, 1, 1), DType.Float64);
        m.Backward(g);
        Assert.That(x.Grad!.ToDoubleArray(), Is.EqualTo(new double[] { 0, 1, 0, 0 }));
    }

    [TestCase(2, 2, 0, 6, 7)]
    [TestCase(3, 2, 1, 7, 5)]
    [TestCase(3, 1, 1, 4, 6)]
    public void AvgPool2d_ForwardAndBackward(int k, int stride, int pad, int h, int w)
    {
        var rng = new Random(k * 10 + w);
        var shape = new Shape(2, 3, h, w);
        var x = Numerics.Randn(rng, shape.Count);
        using (var m32 = new AvgPoolOp(k, stride, pad, DType.Float32))
        {
            using var xt = Input(x, shape, DType.Float32);
            Assert.That(Numerics.RelativeError(Numerics.ToDouble(m32.Run(xt).ToArray()), ConvRef.Pool(Numerics.ToDouble(xt.ToArray()), 6, h, w, k, stride, pad, max: false)), Is.LessThanOrEqualTo(1e-6));
        }
        using var m = new AvgPoolOp(k, stride, pad, DType.Float64);
        using var input = Input(x, shape, DType.Float64, grad: true);
        var y = m.Run(input);
        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(v => ConvRef.Pool(v, 6, h, w, k, stride, pad, max: false), x, gy), 1e-7);
    }

    // height, width, output height, output width
    [TestCase(7, 5, 3, 2)]
    [TestCase(4, 4, 1, 1)]
    [TestCase(2, 3, 4, 5)]
    public void AdaptiveAvgPool2d_ForwardAndBackward(int h, int w, int oh, int ow)
    {
        var rng = new Random(h * 10 + oh);
        var shape = new Shape(2, 3, h, w);
        var x = Numerics.Randn(rng, shape.Count);
        using var m = new AdaptiveAvgPoolOp(oh, ow, DType.Float64);
        using var input = Input(x, shape, DType.Float64, grad: true);
        var y = m.Run(input);
        Assert.That(y.Shape, Is.EqualTo(new Shape(2, 3, oh, ow)));
        Assert.That(Numerics.RelativeError(y.ToDoubleArray(), ConvRef.AdaptiveAvgPool(x, 6, h, w, oh, ow)), Is.LessThanOrEqualTo(1e-14));
        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(v => ConvRef.AdaptiveAvgPool(v, 6, h, w, oh, ow), x, gy), 1e-7);
    }

    [TestCase(1, 3, 4, 5)]
    [TestCase(4, 2, 3, 3)]
    [TestCase(3, 5, 1, 1)]
    public void BatchNorm2d_Training_ForwardBackwardAndRunningStatistics(int n, int c, int h, int w)
    {
        var rng = new Random(n * 100 + c);
        var shape = new Shape(n, c, h, w);
        int plane = h * w;
        var x = Numerics.Randn(rng, shape.Count, 2).Select(v => v + 0.5).ToArray();
        using (var m32 = new BatchNormOp(c, DType.Float32))
        {
            using var xt = Input(x, shape, DType.Float32);
            var x32 = Numerics.ToDouble(xt.ToArray());
            Assert.That(Numerics.RelativeError(Numerics.ToDouble(m32.Run(xt).ToArray()), ConvRef.BatchNormTrain(x32, n, c, plane, Ones(c), new double[c], 1e-5)), Is.LessThanOrEqualTo(1e-5));
        }
        using var m = new BatchNormOp(c, DType.Float64);
        var weight = Numerics.Randn(rng, c);
        var bias = Numerics.Randn(rng, c);
        m.Parameter("bn.weight").Value.CopyFrom<double>(weight);
        m.Parameter("bn.bias").Value.CopyFrom<double>(bias);
        using var input = Input(x, shape, DType.Float64, grad: true);
        var y = m.Run(input);
        Assert.That(Numerics.RelativeError(y.ToDoubleArray(), ConvRef.BatchNormTrain(x, n, c, plane, weight, bias, 1e-5)), Is.LessThanOrEqualTo(1e-12));

        // PyTorch: running = (1 − momentum)·running + momentum·batch, the variance unbiased (N/(N−1))
        var (mean, variance) = ConvRef.ChannelStats(x, n, c, plane);
        int count = n * plane;
        var runningMean = mean.Select(v => 0.1 * v).ToArray();
        var runningVar = variance.Select(v => 0.9 + 0.1 * v * count / (count - 1)).ToArray();
        Assert.That(Numerics.RelativeError(m.Buffer("bn.running_mean").Value.ToDoubleArray(), runningMean), Is.LessThanOrEqualTo(1e-12));
        Assert.That(Numerics.RelativeError(m.Buffer("bn.running_var").Value.ToDoubleArray(), runningVar), Is.LessThanOrEqualTo(1e-12));
        Assert.That(m.Buffer("bn.num_batches_tracked").Value.Item(), Is.EqualTo(1));

        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(v => ConvRef.BatchNormTrain(v, n, c, plane, weight, bias, 1e-5), x, gy), 1e-6, "dx");
        Numerics.AssertGradient(m.Parameter("bn.weight").Grad.ToDoubleArray(), All(v => ConvRef.BatchNormTrain(x, n, c, plane, v, bias, 1e-5), weight, gy), 1e-7, "dw");
        Numerics.AssertGradient(m.Parameter("bn.bias").Grad.ToDoubleArray(), All(v => ConvRef.BatchNormTrain(x, n, c, plane, weight, v, 1e-5), bias, gy), 1e-7, "db");

        // a second training batch moves the running statistics again
        var x2 = Numerics.Randn(rng, shape.Count);
        using var input2 = Input(x2, shape, DType.Float64);
        m.Run(input2);
        var (mean2, variance2) = ConvRef.ChannelStats(x2, n, c, plane);
        Assert.That(Numerics.RelativeError(m.Buffer("bn.running_mean").Value.ToDoubleArray(), runningMean.Zip(mean2, (r, b) => 0.9 * r + 0.1 * b).ToArray()), Is.LessThanOrEqualTo(1e-12));
        Assert.That(Numerics.RelativeError(m.Buffer("bn.running_var").Value.ToDoubleArray(), runningVar.Zip(variance2, (r, b) => 0.9 * r + 0.1 * b * count / (count - 1)).ToArray()), Is.LessThanOrEqualTo(1e-12));
        Assert.That(m.Buffer("bn.num_batches_tracked").Value.Item(), Is.EqualTo(2));
    }

    [Test]
    public void BatchNorm2d_Eval_UsesAndKeepsTheRunningStatistics()
    {
        const int n = 3, c = 4, h = 2, w = 5, plane = h * w;
        var rng = new Random(21);
        using var m = new BatchNormOp(c, DType.Float64, momentum: 0.3);
        var runningMean = Numerics.Randn(rng, c);
        var runningVar = Numerics.Randn(rng, c).Select(v => 0.5 + v * v).ToArray();
        var weight = Numerics.Randn(rng, c);
        var bias = Numerics.Randn(rng, c);
        m.Buffer("bn.running_mean").Value.CopyFrom<double>(runningMean);
        m.Buffer("bn.running_var").Value.CopyFrom<double>(runningVar);
        m.Parameter("bn.weight").Value.CopyFrom<double>(weight);
        m.Parameter("bn.bias").Value.CopyFrom<double>(bias);
        m.Eval();
        var x = Numerics.Randn(rng, n * c * plane);
        using var input = Input(x, new Shape(n, c, h, w), DType.Float64, grad: true);
        double[] F(double[] xs, double[] ws, double[] bs) => ConvRef.BatchNorm(xs, n, c, plane, runningMean, runningVar, ws, bs, 1e-5);
        var y = m.Run(input);
        Assert.That(Numerics.RelativeError(y.ToDoubleArray(), F(x, weight, bias)), Is.LessThanOrEqualTo(1e-12));
        Assert.That(m.Buffer("bn.running_mean").Value.ToDoubleArray(), Is.EqualTo(runningMean), "evaluation leaves the running statistics alone");
        Assert.That(m.Buffer("bn.num_batches_tracked").Value.Item(), Is.EqualTo(0));
        var gy = Numerics.Randn(rng, y.Count);
        using var g = Tensor.From<double>(gy, y.Shape, DType.Float64);
        m.Backward(g);
        Numerics.AssertGradient(input.Grad!.ToDoubleArray(), All(v => F(v, weight, bias), x, gy), 1e-7, "dx");
        Numerics.AssertGradient(m.Parameter("bn.weight").Grad.ToDoubleArray(), All(v => F(x, v, bias), weight, gy), 1e-7, "dw");
    }

    [Test]
    public void BatchNorm2d_OneValuePerChannelInTraining_IsAClearError()
    {
        using var m = new BatchNormOp(3, DType.Float32);
        using var x = Tensor.Zeros(1, 3, 1, 1);
        Assert.That(Assert.Throws<ArgumentException>(() => m.Run(x))!.Message, Does.Contain("more than one value per channel"));
        m.Eval();
        // eval normalises with the running statistics (mean 0, var 1 at first): y = x / √(1 + ε) · 1 + 0
        using var one = Tensor.From(new float[] { 1, 2, -3 }, 1, 3, 1, 1);
        var y = m.Run(one).ToArray();
        Assert.That(y, Is.EqualTo(new[] { 1 / Math.Sqrt(1 + 1e-5), 2 / Math.Sqrt(1 + 1e-5), -3 / Math.Sqrt(1 + 1e-5) }).Within(1e-6));
    }

    [Test]
    public void BatchNorm2d_Buffers_AreSavedAndLoaded_ButNeverTrained()
    {
        using var m = new BatchNormOp(3, DType.Float32);
        Assert.That(m.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "bn.weight", "bn.bias" }), "buffers are not parameters");
        Assert.That(m.Buffers.Select(p => $"{p.Name} {p.Shape}"), Is.EqualTo(new[] { "bn.running_mean [3]", "bn.running_var [3]", "bn.num_batches_tracked []" }));
        Assert.That(m.Buffers.All(b => b.IsBuffer && !b.RequiresGrad), Is.True);
        Assert.Throws<InvalidOperationException>(() => m.Buffer("bn.running_mean").RequiresGrad = true);
        Assert.That(m.Buffer("bn.running_var").Value.ToDoubleArray(), Is.EqualTo(new double[] { 1, 1, 1 }));
        Assert.That(m.ParameterCount, Is.EqualTo(6));

        using var optimizer = new Adam(m.Parameters, lr: 0.1);
        using var x = Tensor.From<double>(Numerics.Randn(new Random(3), 2 * 3 * 4), new Shape(2, 3, 2, 2), DType.Float32);
        var y = m.Run(x);
        using var g = Tensor.From<double>(Enumerable.Range(0, y.Count).Select(i => (double)(i % 5)).ToArray(), y.Shape, DType.Float32);
        m.Backward(g);
        var trained = m.Buffers.Select(b => b.Value.ToDoubleArray()).ToList();
        optimizer.Step();
        optimizer.ZeroGrad();
        m.ZeroGrad();
        Assert.That(m.Buffers.Select(b => b.Value.ToDoubleArray()), Is.EqualTo(trained), "Step and ZeroGrad leave the buffers alone");
        Assert.That(m.Buffer("bn.num_batches_tracked").Value.Item(), Is.EqualTo(1));

        var path = Path.Combine(Path.GetTempPath(), $"modelgen-bn-{Guid.NewGuid():N}.safetensors");
        try
        {
            m.Save(path);
            using (var file = global::ModelGen.IO.SafeTensorsFile.Open(path))
                Assert.That(file.Tensors.Select(t => t.Name), Is.EquivalentTo(new[] { "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" }));
            using var copy = new BatchNormOp(3, DType.Float32);
            copy.Load(path);
            Assert.That(copy.Buffers.Select(b => b.Value.ToDoubleArray()), Is.EqualTo(trained));
            copy.Eval();
            m.Eval();
            Assert.That(copy.Run(x).ToArray(), Is.EqualTo(m.Run(x).ToArray()), "the reloaded model evaluates the same");

            // older checkpoints without num_batches_tracked load (PyTorch does the same); without running_mean they do not
            using var writer = new BatchNormOp(3, DType.Float32);
            var partial = path + ".partial";
            global::ModelGen.IO.SafeTensorsWriter.Write(partial, writer.Parameters.Concat(writer.Buffers).Where(p => !p.Name.EndsWith("num_batches_tracked")).Select(p => (p.Name, p.Value)));
            var trackedBefore = copy.Buffers.Single(b => b.Name == "bn.num_batches_tracked").Value.ToDoubleArray();
            copy.Load(partial);
            Assert.That(copy.Buffers.Single(b => b.Name == "bn.running_mean").Value.ToDoubleArray(),
                Is.EqualTo(writer.Buffers.Single(b => b.Name == "bn.running_mean").Value.ToDoubleArray()), "the partial checkpoint's statistics are loaded");
            Assert.That(copy.Buffers.Single(b => b.Name == "bn.num_batches_tracked").Value.ToDoubleArray(), Is.EqualTo(trackedBefore), "num_batches_tracked, absent, is kept");
            global::ModelGen.IO.SafeTensorsWriter.Write(partial, writer.Parameters.Select(p => (p.Name, p.Value)));
            Assert.That(Assert.Throws<InvalidDataException>(() => copy.Load(partial))!.Message, Does.Contain("bn.running_mean"));
            File.Delete(partial);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Dropout2d_DropsWholeChannels_AndIsTheIdentityInEval()
    {
        using var m = new Dropout2dOp(Device.Cpu, 7, DType.Float64);
        var shape = new Shape(4, 8, 3, 2);
        var x = Enumerable.Range(1, shape.Count).Select(i => (double)i).ToArray();
        using var input = Input(x, shape, DType.Float64, grad: true);
        var y = m.Run(input).ToDoubleArray();
        int dropped = 0;
        for (int plane = 0; plane < 32; plane++)
        {
            var yp = y.AsSpan(plane * 6, 6).ToArray();
            var xp = x.AsSpan(plane * 6, 6).ToArray();
            if (yp.All(v => v == 0)) dropped++;
            else Assert.That(yp, Is.EqualTo(xp.Select(v => 2 * v).ToArray()), "kept channels are scaled by 1/(1 − p)");
        }
        Assert.That(dropped, Is.InRange(6, 26), "about half the 32 channels");
        using var g = Tensor.From<double>(Enumerable.Repeat(1.0, shape.Count).ToArray(), shape, DType.Float64);
        m.Backward(g);
        Assert.That(input.Grad!.ToDoubleArray(), Is.EqualTo(y.Zip(x, (a, b) => a / b).ToArray()), "dx = dy ⊙ mask");
        m.Eval();
        Assert.That(m.Run(input).ToDoubleArray(), Is.EqualTo(x));
    }

    [Test]
    public void TinyCnn_EndToEnd_GradientsMatchFiniteDifferences()
    {
        using var model = new TinyCnn(Device.Cpu, 4, DType.Float64);
        var rng = new Random(31);
        using var x = Input(Numerics.Randn(rng, 3 * 2 * 9 * 7), new Shape(3, 2, 9, 7), DType.Float64, grad: true);
        int[] labels = [2, 0, 1];
        // dropout masks depend on the step counter: keep it fixed so every loss sees the same masks
        double Loss()
        {
            model.Step = 10;
            return model.CrossEntropy(x, labels);
        }
        model.ZeroGrad();
        Loss();
        model.Backward();
        Numerics.AssertDirectionalDerivatives(model, Loss, rng);
        using var wrong = Tensor.Zeros(new Shape(3, 2, 9, 8), DType.Float64);
        Assert.That(Assert.Throws<ShapeMismatchException>(() => model.Run(wrong))!.Message, Does.Contain("Input 'x' is declared [Shape(2, 9, 7)]"));
    }

    [Test]
    public void TinyCnn_TrainingStep_AllocatesNothingOnTheCallingThreadAfterWarmUp()
    {
        using var model = new TinyCnn(Device.Cpu, 4);
        using var optimizer = new AdamW(model.Parameters, lr: 1e-3);
        using var x = Tensor.From<double>(Numerics.Randn(new Random(5), 8 * 2 * 9 * 7), new Shape(8, 2, 9, 7), DType.Float32);
        int[] labels = [0, 1, 2, 0, 1, 2, 0, 1];
        void Step()
        {
            model.CrossEntropy(x, labels);
            model.Backward();
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        for (int i = 0; i < 50; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) Step();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
    }

    private static double[] Ones(int n) => Enumerable.Repeat(1.0, n).ToArray();
}
