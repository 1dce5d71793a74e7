using System.Text.Json;
using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>The convolutional ops against PyTorch 1.13 (tests/oracle/fixtures/conv.json, written by make_fixtures.py):
/// conv2d with stride, padding, dilation and groups; batch_norm in training (with its running statistics over two steps)
/// and in evaluation; max, average and adaptive pooling; a tiny CNN's loss and gradients. Float32 and float64.</summary>
[Category("CpuEngine")]
public class ConvOracleTests
{
    private static JsonElement Cases()
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "conv.json"))).RootElement.GetProperty("cases");

    private static (int[] Shape, double[] Data) T(JsonElement e)
        => (e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(), e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray());

    private static Tensor ToTensor(JsonElement e, DType dtype, bool grad = false)
    {
        var (shape, data) = T(e);
        var t = Tensor.From<double>(data, new Shape(shape), dtype);
        t.RequiresGrad = grad;
        return t;
    }

    private static void Check(Tensor actual, JsonElement expected, double tol, string what)
    {
        var (shape, data) = T(expected);
        Assert.That(actual.Shape, Is.EqualTo(new Shape(shape)), what);
        Assert.That(Numerics.RelativeError(actual.ToDoubleArray(), data), Is.LessThanOrEqualTo(tol), what);
    }

    private static void Set(Parameter p, JsonElement e) => p.Value.CopyFrom<double>(T(e).Data);

    public static IEnumerable<TestCaseData> CaseNames()
    {
        var cases = Cases().EnumerateArray().ToList();
        for (int i = 0; i < cases.Count; i++)
        {
            var op = cases[i].GetProperty("op").GetString()!;
            var shape = cases[i].TryGetProperty("input", out var input) ? string.Join("x", T(input).Shape) : "";
            yield return new TestCaseData(i).SetName($"ConvOracle_{i}_{op}_{shape}");
        }
    }

    [TestCaseSource(nameof(CaseNames))]
    public void MatchesPyTorch(int index)
    {
        var c = Cases()[index];
        var op = c.GetProperty("op").GetString()!;
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double tol = dtype == DType.Float32 ? 2e-5 : 1e-10;
            string what = $"{op} {dtype}";
            switch (op)
            {
                case "conv2d": Conv(c, dtype, tol, what); break;
                case "batch_norm_train": BatchNormTrain(c, dtype, tol, what); break;
                case "batch_norm_eval": BatchNormEval(c, dtype, tol, what); break;
                case "max_pool2d" or "avg_pool2d" or "adaptive_avg_pool2d": Pool(c, op, dtype, tol, what); break;
                case "tiny_cnn": TinyCnn(c, dtype, tol, what); break;
                default: throw new AssertionException($"no test for oracle op '{op}'");
            }
        }
    }

    private static void Conv(JsonElement c, DType dtype, double tol, string what)
    {
        var (ws, _) = T(c.GetProperty("weight"));
        var (xs, _) = T(c.GetProperty("input"));
        bool bias = c.TryGetProperty("bias", out var b);
        int groups = c.GetProperty("groups").GetInt32();
        using var m = new ConvOp(xs[1], ws[0], ws[2], c.GetProperty("stride").GetInt32(), c.GetProperty("padding").GetInt32(),
            c.GetProperty("dilation").GetInt32(), groups, bias, dtype);
        Set(m.Parameter("conv.weight"), c.GetProperty("weight"));
        if (bias) Set(m.Parameter("conv.bias"), b);
        using var x = ToTensor(c.GetProperty("input"), dtype, grad: true);
        Check(m.Run(x), c.GetProperty("output"), tol, what);
        using var g = ToTensor(c.GetProperty("grad_output"), dtype);
        m.Backward(g);
        Check(x.Grad!, c.GetProperty("grad_input"), tol, what + " dx");
        Check(m.Parameter("conv.weight").Grad, c.GetProperty("grad_weight"), tol, what + " dW");
        if (bias) Check(m.Parameter("conv.bias").Grad, c.GetProperty("grad_bias"), tol, what + " db");
    }

    private static void BatchNormTrain(JsonElement c, DType dtype, double tol, string what)
    {
        int channels = T(c.GetProperty("weight")).Shape[0];
        using var m = new BatchNormOp(channels, dtype, c.GetProperty("momentum").GetDouble());
        Set(m.Parameter("bn.weight"), c.GetProperty("weight"));
        Set(m.Parameter("bn.bias"), c.GetProperty("bias"));
        using var x = ToTensor(c.GetProperty("input"), dtype, grad: true);
        Check(m.Run(x), c.GetProperty("output"), tol, what);
        using var g = ToTensor(c.GetProperty("grad_output"), dtype);
        m.Backward(g);
        Check(x.Grad!, c.GetProperty("grad_input"), tol, what + " dx");
        Check(m.Parameter("bn.weight").Grad, c.GetProperty("grad_weight"), tol, what + " dw");
        Check(m.Parameter("bn.bias").Grad, c.GetProperty("grad_bias"), tol, what + " db");
        Check(m.Buffer("bn.running_mean").Value, c.GetProperty("after_one").GetProperty("running_mean"), tol, what + " running_mean after one step");
        Check(m.Buffer("bn.running_var").Value, c.GetProperty("after_one").GetProperty("running_var"), tol, what + " running_var after one step");
        using var x2 = ToTensor(c.GetProperty("second_input"), dtype);
        m.Run(x2);
        Check(m.Buffer("bn.running_mean").Value, c.GetProperty("running_mean"), tol, what + " running_mean");
        Check(m.Buffer("bn.running_var").Value, c.GetProperty("running_var"), tol, what + " running_var");
        Assert.That(m.Buffer("bn.num_batches_tracked").Value.Item(), Is.EqualTo(c.GetProperty("num_batches_tracked").GetInt32()));
    }

    private static void BatchNormEval(JsonElement c, DType dtype, double tol, string what)
    {
        int channels = T(c.GetProperty("weight")).Shape[0];
        using var m = new BatchNormOp(channels, dtype);
        Set(m.Parameter("bn.weight"), c.GetProperty("weight"));
        Set(m.Parameter("bn.bias"), c.GetProperty("bias"));
        Set(m.Buffer("bn.running_mean"), c.GetProperty("running_mean"));
        Set(m.Buffer("bn.running_var"), c.GetProperty("running_var"));
        m.Eval();
        using var x = ToTensor(c.GetProperty("input"), dtype, grad: true);
        Check(m.Run(x), c.GetProperty("output"), tol, what);
        using var g = ToTensor(c.GetProperty("grad_output"), dtype);
        m.Backward(g);
        Check(x.Grad!, c.GetProperty("grad_input"), tol, what + " dx");
        Check(m.Parameter("bn.weight").Grad, c.GetProperty("grad_weight"), tol, what + " dw");
        Check(m.Parameter("bn.bias").Grad, c.GetProperty("grad_bias"), tol, what + " db");
    }

    private static void Pool(JsonElement c, string op, DType dtype, double tol, string what)
    {
        using Module m = op switch
        {
            "max_pool2d" => new MaxPoolOp(c.GetProperty("kernel").GetInt32(), c.GetProperty("stride").GetInt32(), c.GetProperty("padding").GetInt32(), dtype),
            "avg_pool2d" => new AvgPoolOp(c.GetProperty("kernel").GetInt32(), c.GetProperty("stride").GetInt32(), c.GetProperty("padding").GetInt32(), dtype),
            _ => new AdaptiveAvgPoolOp(c.GetProperty("output_size")[0].GetInt32(), c.GetProperty("output_size")[1].GetInt32(), dtype),
        };
        var model = (IModel)m;
        using var x = ToTensor(c.GetProperty("input"), dtype, grad: true);
        Check(model.Run(x), c.GetProperty("output"), tol, what);
        using var g = ToTensor(c.GetProperty("grad_output"), dtype);
        model.Backward(g);
        Check(x.Grad!, c.GetProperty("grad_input"), tol, what + " dx");
    }

    private static void TinyCnn(JsonElement c, DType dtype, double tol, string what)
    {
        using var model = new OracleCnn(Device.Cpu, 0, dtype);
        foreach (var layer in c.GetProperty("layers").EnumerateObject()) Set(model.Parameter(layer.Name), layer.Value);
        using var x = ToTensor(c.GetProperty("input"), dtype, grad: true);
        double loss = model.CrossEntropy(x, c.GetProperty("target").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        Assert.That(loss, Is.EqualTo(c.GetProperty("loss").GetDouble()).Within(tol * 10), what + " loss");
        model.Backward();
        foreach (var g in c.GetProperty("grads").EnumerateObject())
        {
            if (g.Name == "conv.bias")
            {
                // the batch norm right after the convolution cancels its bias: PyTorch's gradient is rounding noise (~1e-17)
                Assert.That(T(g.Value).Data.Max(Math.Abs), Is.LessThan(1e-12));
                Assert.That(model.Parameter(g.Name).Grad.ToDoubleArray().Max(Math.Abs), Is.LessThan(dtype == DType.Float32 ? 1e-5 : 1e-12), $"{what} dconv.bias");
                continue;
            }
            Check(model.Parameter(g.Name).Grad, g.Value, tol * 10, $"{what} d{g.Name}");
        }
        Check(x.Grad!, c.GetProperty("grad_input"), tol * 10, what + " dx");
    }
}
