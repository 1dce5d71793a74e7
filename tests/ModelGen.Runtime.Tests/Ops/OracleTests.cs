using System.Text.Json;
using ModelGen.Optim;
using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>Compares with fixtures written by PyTorch (tests/oracle/make_fixtures.py, an independent implementation).</summary>
[Category("CpuEngine")]
public class OracleTests
{
    private static JsonElement Load(string file)
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", file))).RootElement;

    private static (int[] Shape, double[] Data) T(JsonElement e)
        => (e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(), e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray());

    private static Tensor ToTensor(JsonElement e, DType dtype)
    {
        var (shape, data) = T(e);
        return Tensor.From<double>(data, new Shape(shape), dtype);
    }

    public static IEnumerable<TestCaseData> OpCases()
    {
        var cases = Load("ops.json").GetProperty("cases").EnumerateArray().ToList();
        for (int i = 0; i < cases.Count; i++)
        {
            var op = cases[i].GetProperty("op").GetString()!;
            var shape = string.Join("x", T(cases[i].GetProperty("input")).Shape);
            yield return new TestCaseData(i).SetName($"Oracle_{op}_{shape}");
        }
    }

    private static Module? CreateOp(string op, DType dtype, JsonElement c) => op switch
    {
        "relu" => new ReluOp(Device.Cpu, 0, dtype),
        "tanh" => new TanhOp(Device.Cpu, 0, dtype),
        "sigmoid" => new SigmoidOp(Device.Cpu, 0, dtype),
        "gelu" => new GeluOp(Device.Cpu, 0, dtype),
        "gelu_tanh" => new GeluTanhOp(Device.Cpu, 0, dtype),
        "mul_scalar" when c.GetProperty("scalar").GetDouble() == 2.5 => new MulScalarOp(Device.Cpu, 0, dtype),
        "softmax" => new SoftmaxOp(Device.Cpu, 0, dtype),
        "log_softmax" => new LogSoftmaxOp(Device.Cpu, 0, dtype),
        "sum" => new SumOp(Device.Cpu, 0, dtype),
        "mean" => new MeanOp(Device.Cpu, 0, dtype),
        _ => null,
    };

    [TestCaseSource(nameof(OpCases))]
    public void Op_MatchesPyTorch(int index)
    {
        var c = Load("ops.json").GetProperty("cases")[index];
        var op = c.GetProperty("op").GetString()!;
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            // float32 within 1e-5; float64 as exact as PyTorch's own float64 (GELU's erf is VMath.ErfDouble, a few ulp)
            double tol = dtype == DType.Float32 ? 1e-5 : op.StartsWith("gelu") ? 1e-12 : 1e-9;
            if (op == "linear")
            {
                var w = T(c.GetProperty("weight"));
                using var m = new LinearOp(w.Shape[1], w.Shape[0], dtype);
                m.Parameter("fc.weight").Value.CopyFrom<double>(w.Data);
                m.Parameter("fc.bias").Value.CopyFrom<double>(T(c.GetProperty("bias")).Data);
                using var x = ToTensor(c.GetProperty("input"), dtype);
                x.RequiresGrad = true;
                Check(m.Run(x), c.GetProperty("output"), tol, op);
                using var g = ToTensor(c.GetProperty("grad_output"), dtype);
                m.Backward(g);
                Check(x.Grad!, c.GetProperty("grad_input"), tol, op + " dx");
                Check(m.Parameter("fc.weight").Grad, c.GetProperty("grad_weight"), tol, op + " dW");
                Check(m.Parameter("fc.bias").Grad, c.GetProperty("grad_bias"), tol, op + " db");
                continue;
            }
            if (op == "cross_entropy")
            {
                var (shape, data) = T(c.GetProperty("input"));
                using var m = new LinearOp(shape[1], shape[1], dtype);
                // identity layer: logits = x
                var eye = new double[shape[1] * shape[1]];
                for (int i = 0; i < shape[1]; i++) eye[i * shape[1] + i] = 1;
                m.Parameter("fc.weight").Value.CopyFrom<double>(eye);
                m.Parameter("fc.bias").Value.CopyFrom<double>(new double[shape[1]]);
                using var x = Tensor.From<double>(data, new Shape(shape), dtype);
                x.RequiresGrad = true;
                var loss = m.CrossEntropy(x, c.GetProperty("target").EnumerateArray().Select(v => v.GetInt32()).ToArray());
                Assert.That(loss, Is.EqualTo(T(c.GetProperty("output")).Data[0]).Within(tol));
                m.Backward();
                Check(x.Grad!, c.GetProperty("grad_input"), tol, op);
                continue;
            }
            if (op == "mse")
            {
                using var m = new MseOp(Device.Cpu, 0, dtype);
                using var a = ToTensor(c.GetProperty("input"), dtype);
                using var b = ToTensor(c.GetProperty("target"), dtype);
                a.RequiresGrad = true;
                Check(m.Run(a, b), c.GetProperty("output"), tol, op);
                m.Backward();
                Check(a.Grad!, c.GetProperty("grad_input"), tol, op);
                continue;
            }
            using var model = CreateOp(op, dtype, c) ?? throw new AssertionException($"no model for oracle op '{op}'");
            using var input = ToTensor(c.GetProperty("input"), dtype);
            input.RequiresGrad = true;
            var imodel = (IModel)model;
            Check(imodel.Run(input), c.GetProperty("output"), tol, op);
            using var grad = ToTensor(c.GetProperty("grad_output"), dtype);
            imodel.Backward(grad);
            Check(input.Grad!, c.GetProperty("grad_input"), tol, op + " backward");
        }
    }

    private static void Check(Tensor actual, JsonElement expected, double tol, string what)
    {
        var (shape, data) = T(expected);
        Assert.That(actual.Shape.Count, Is.EqualTo(data.Length), what);
        Assert.That(Numerics.RelativeError(actual.ToDoubleArray(), data), Is.LessThanOrEqualTo(tol), what);
    }

    [TestCase("mlp")]
    [TestCase("tanh_sigmoid_mse")]
    [TestCase("residual_gelu")]
    public void Model_LossAndGradients_MatchPyTorch(string name)
    {
        var c = Load("models.json").GetProperty("models").EnumerateArray().First(m => m.GetProperty("name").GetString() == name);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double tol = dtype == DType.Float32 ? 1e-5 : 1e-6;
            using Module model = name switch
            {
                "mlp" => new OracleMlp(Device.Cpu, 0, dtype),
                "tanh_sigmoid_mse" => new OracleTanhSigmoid(Device.Cpu, 0, dtype),
                _ => new OracleResidualGelu(Device.Cpu, 0, dtype),
            };
            foreach (var layer in c.GetProperty("layers").EnumerateObject())
                model.Parameter(layer.Name).Value.CopyFrom<double>(T(layer.Value).Data);
            using var x = ToTensor(c.GetProperty("input"), dtype);
            x.RequiresGrad = true;
            var m = (IModel)model;
            var target = c.GetProperty("target");
            bool classes = target.ValueKind == JsonValueKind.Array;
            using var targetTensor = classes ? null : ToTensor(target, dtype);
            double loss = classes
                ? m.CrossEntropy(x, target.EnumerateArray().Select(v => v.GetInt32()).ToArray())
                : m.Mse(x, targetTensor!);
            Assert.That(loss, Is.EqualTo(c.GetProperty("loss").GetDouble()).Within(tol * 10));
            m.Backward();
            foreach (var g in c.GetProperty("grads").EnumerateObject())
                Check(model.Parameter(g.Name).Grad, g.Value, tol, $"{name} {dtype} d{g.Name}");
            Check(x.Grad!, c.GetProperty("grad_input"), tol, $"{name} {dtype} dx");
        }
    }

    [TestCase("sgd")]
    [TestCase("sgd_momentum")]
    [TestCase("sgd_nesterov")]
    [TestCase("sgd_dampening")]
    [TestCase("adam")]
    [TestCase("adam_wd")]
    [TestCase("adam_amsgrad")]
    [TestCase("adamw")]
    public void Optimizer_FiveSteps_MatchPyTorch(string name)
    {
        var c = Load("optim.json").GetProperty("traces").EnumerateArray().First(m => m.GetProperty("name").GetString() == name);
        var h = c.GetProperty("hparams");
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            using var model = new LinearOp(4, 3, dtype);
            var w = model.Parameter("fc.weight");
            var b = model.Parameter("fc.bias");
            w.Value.CopyFrom<double>(T(c.GetProperty("init").GetProperty("w")).Data);
            b.Value.CopyFrom<double>(T(c.GetProperty("init").GetProperty("b")).Data);
            double lr = h.GetProperty("lr").GetDouble(), wd = h.GetProperty("weight_decay").GetDouble();
            var betas = h.GetProperty("betas").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            using Optimizer opt = c.GetProperty("optimizer").GetString() switch
            {
                "sgd" => new Sgd(model.Parameters, lr, h.GetProperty("momentum").GetDouble(), h.GetProperty("dampening").GetDouble(), wd, h.GetProperty("nesterov").GetBoolean()),
                "adam" => new Adam(model.Parameters, lr, betas[0], betas[1], h.GetProperty("eps").GetDouble(), wd, h.GetProperty("amsgrad").GetBoolean()),
                _ => new AdamW(model.Parameters, lr, betas[0], betas[1], h.GetProperty("eps").GetDouble(), wd, h.GetProperty("amsgrad").GetBoolean()),
            };
            var grads = c.GetProperty("grads").EnumerateArray().ToList();
            var after = c.GetProperty("params_after").EnumerateArray().ToList();
            double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
            for (int s = 0; s < grads.Count; s++)
            {
                w.Grad.CopyFrom<double>(T(grads[s].GetProperty("w")).Data);
                b.Grad.CopyFrom<double>(T(grads[s].GetProperty("b")).Data);
                opt.Step();
                Check(w.Value, after[s].GetProperty("w"), tol, $"{name} {dtype} step {s + 1} w");
                Check(b.Value, after[s].GetProperty("b"), tol, $"{name} {dtype} step {s + 1} b");
            }
        }
    }

    /// <summary>A HuggingFace BertLayer in float64 against PyTorch's float64 autograd (bert.json): the output, the input's
    /// gradient and every parameter's gradient within 1e-12, so that float64 is float64-accurate end to end.</summary>
    [Test]
    public void BertLayer_Float64_MatchesPyTorchTo1e12()
    {
        var c = Load("bert.json").GetProperty("cases")[0];
        using var model = new EncoderBlock(Device.Cpu, 0, DType.Float64);
        foreach (var layer in c.GetProperty("layers").EnumerateObject())
            model.Parameter(layer.Name).Value.CopyFrom<double>(T(layer.Value).Data);
        using var x = ToTensor(c.GetProperty("input"), DType.Float64);
        using var mask = ToTensor(c.GetProperty("mask"), DType.Float64);
        x.RequiresGrad = true;
        Check(model.Run(x, mask), c.GetProperty("output"), 1e-12, "bert layer output");
        using var g = ToTensor(c.GetProperty("grad_output"), DType.Float64);
        model.Backward(g);
        Check(x.Grad!, c.GetProperty("grad_input"), 1e-12, "bert layer d(input)");
        foreach (var grad in c.GetProperty("grads").EnumerateObject())
        {
            var (_, expected) = T(grad.Value);
            if (Math.Sqrt(expected.Sum(v => v * v)) < 1e-12)
            {
                // the key bias's gradient is exactly zero in theory (a constant added to every score of a row leaves the
                // softmax unchanged): both sides hold rounding noise, so compare magnitudes, not a relative error
                var actual = model.Parameter(grad.Name).Grad.ToDoubleArray();
                Assert.That(Math.Sqrt(actual.Sum(v => v * v)), Is.LessThanOrEqualTo(1e-12), $"bert layer d{grad.Name} is zero");
                continue;
            }
            Check(model.Parameter(grad.Name).Grad, grad.Value, 1e-12, $"bert layer d{grad.Name}");
        }
    }
}
