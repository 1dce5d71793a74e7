using System.Text.Json;
using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// The tensor-algebra routines (MatMul, Permute/Transpose, reductions over a dim, softmax over a dim) against PyTorch's
/// values in tests/oracle/fixtures/tensor_ops.json: forward and gradients in float64 within 1e-10, the forward in
/// float32 within 1e-5. The file's broadcasting element-wise cases (add, sub, mul, div, maximum, minimum) belong to the
/// generator's tests and are skipped here.
/// </summary>
[Category("CpuEngine")]
public class TensorOpsOracleTests
{
    private static readonly string[] ElementwiseOps = ["add", "sub", "mul", "div", "maximum", "minimum"];

    private static readonly Lazy<JsonElement[]> Fixture = new(() =>
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "tensor_ops.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone()).ToArray();
    });

    private static (int[] Shape, double[] Data) T(JsonElement e)
        => (e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(), e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray());

    private static Tensor Make(JsonElement e, DType dtype)
    {
        var (shape, data) = T(e);
        return Tensor.From<double>(data, new Shape(shape), dtype);
    }

    private static Tensor ZerosLike(JsonElement e, DType dtype) => Tensor.Zeros(new Shape(T(e).Shape), dtype);

    public static IEnumerable<TestCaseData> Cases()
    {
        var cases = Fixture.Value;
        for (int i = 0; i < cases.Length; i++)
        {
            var op = cases[i].GetProperty("op").GetString()!;
            if (ElementwiseOps.Contains(op)) continue;
            var input = cases[i].TryGetProperty("input", out var x) ? x : cases[i].GetProperty("a");
            var args = op switch
            {
                "matmul" => $"{Shape.Format(T(cases[i].GetProperty("a")).Shape)}x{Shape.Format(T(cases[i].GetProperty("b")).Shape)}",
                "permute" => $"{Shape.Format(T(input).Shape)}_dims{string.Join(",", cases[i].GetProperty("dims").EnumerateArray().Select(v => v.GetInt32()))}",
                "transpose" => $"{Shape.Format(T(input).Shape)}_{cases[i].GetProperty("dim0").GetInt32()},{cases[i].GetProperty("dim1").GetInt32()}",
                _ => $"{Shape.Format(T(input).Shape)}_dim{cases[i].GetProperty("dim").GetInt32()}"
                     + (cases[i].TryGetProperty("keepdim", out var k) && k.GetBoolean() ? "_keepdim" : "")
                     + (cases[i].TryGetProperty("unbiased", out var u) ? (u.GetBoolean() ? "_unbiased" : "_biased") : ""),
            };
            yield return new TestCaseData(i).SetName($"TensorOps_{op}_{args}_#{i}");
        }
    }

    [Test]
    public void Fixture_HoldsTheCasesTheGeneratorNeedsToo()
    {
        var ops = Fixture.Value.Select(c => c.GetProperty("op").GetString()!).ToHashSet();
        Assert.That(ops, Is.SupersetOf(new[] { "matmul", "permute", "transpose", "sum", "mean", "amax", "amin", "var", "logsumexp", "softmax", "log_softmax" }));
        Assert.That(ops, Is.SupersetOf(ElementwiseOps));
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(int index)
    {
        var c = Fixture.Value[index];
        var op = c.GetProperty("op").GetString()!;
        if (op == "matmul") { MatMul(c); return; }
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            using var x = Make(c.GetProperty("input"), dtype);
            using var y = ZerosLike(c.GetProperty("output"), dtype);
            using var gy = Make(c.GetProperty("grad_output"), dtype);
            using var dx = ZerosLike(c.GetProperty("grad_input"), dtype);
            if (dtype == DType.Float64) Run<double>(op, c, x, y, gy, dx);
            else Run<float>(op, c, x, y, gy, dx);
            double tol = dtype == DType.Float64 ? 1e-10 : 1e-5;
            TensorRef.AssertClose(y.ToDoubleArray(), T(c.GetProperty("output")).Data, tol, $"{op} {dtype} output");
            TensorRef.AssertClose(dx.ToDoubleArray(), T(c.GetProperty("grad_input")).Data, tol, $"{op} {dtype} grad_input");
        }
    }

    private static void Run<TF>(string op, JsonElement c, Tensor x, Tensor y, Tensor gy, Tensor dx) where TF : unmanaged, System.Numerics.IFloatingPointIeee754<TF>
    {
        int Dim() => c.GetProperty("dim").GetInt32();
        switch (op)
        {
            case "permute" or "transpose":
            {
                int[] dims;
                if (op == "permute") dims = c.GetProperty("dims").EnumerateArray().Select(v => v.GetInt32()).ToArray();
                else
                {
                    int rank = x.Shape.Rank;
                    int d0 = c.GetProperty("dim0").GetInt32(), d1 = c.GetProperty("dim1").GetInt32();
                    d0 = d0 < 0 ? d0 + rank : d0;
                    d1 = d1 < 0 ? d1 + rank : d1;
                    dims = Enumerable.Range(0, rank).ToArray();
                    (dims[d0], dims[d1]) = (dims[d1], dims[d0]);
                }
                Assert.That(ModelGen.Ops.PermuteShape(x.Shape, dims), Is.EqualTo(y.Shape));
                ModelGen.Ops.Permute<TF>(x, y, dims);
                ModelGen.Ops.PermuteBackward<TF>(gy, dx, dims, false);
                break;
            }
            case "sum" or "mean":
                Assert.That(ModelGen.Ops.ReduceShape(x.Shape, Dim(), c.GetProperty("keepdim").GetBoolean(), op), Is.EqualTo(y.Shape));
                ModelGen.Ops.SumDim<TF>(x, y, Dim(), op == "mean");
                ModelGen.Ops.SumDimBackward<TF>(gy, dx, Dim(), op == "mean", false);
                break;
            case "amax" or "amin":
                Assert.That(ModelGen.Ops.ReduceShape(x.Shape, Dim(), c.GetProperty("keepdim").GetBoolean(), op), Is.EqualTo(y.Shape));
                ModelGen.Ops.MaxDim<TF>(x, y, Dim(), op == "amin");
                ModelGen.Ops.MaxDimBackward<TF>(x, y, gy, dx, Dim(), op == "amin", false);
                break;
            case "var":
            {
                bool unbiased = c.GetProperty("unbiased").GetBoolean();
                ModelGen.Ops.VarDim<TF>(x, y, Dim(), unbiased);
                ModelGen.Ops.VarDimBackward<TF>(x, gy, dx, Dim(), unbiased, false);
                break;
            }
            case "logsumexp":
                ModelGen.Ops.LogSumExpDim<TF>(x, y, Dim());
                ModelGen.Ops.LogSumExpDimBackward<TF>(x, y, gy, dx, Dim(), false);
                break;
            case "softmax" or "log_softmax":
                ModelGen.Ops.SoftmaxDim<TF>(x, y, Dim(), op == "log_softmax");
                ModelGen.Ops.SoftmaxDimBackward<TF>(y, gy, dx, Dim(), op == "log_softmax", false);
                break;
            default:
                Assert.Fail($"no routine for fixture op '{op}'");
                break;
        }
    }

    private static void MatMul(JsonElement c)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            using var a = Make(c.GetProperty("a"), dtype);
            using var b = Make(c.GetProperty("b"), dtype);
            using var y = ZerosLike(c.GetProperty("output"), dtype);
            using var gy = Make(c.GetProperty("grad_output"), dtype);
            using var da = ZerosLike(c.GetProperty("grad_a"), dtype);
            using var db = ZerosLike(c.GetProperty("grad_b"), dtype);
            Assert.That(ModelGen.Ops.MatMulShape(a.Shape, b.Shape), Is.EqualTo(y.Shape));
            if (dtype == DType.Float64)
            {
                ModelGen.Ops.MatMul<double>(a, b, y);
                ModelGen.Ops.MatMulBackward<double>(a, b, gy, da, false, db, false);
            }
            else
            {
                ModelGen.Ops.MatMul<float>(a, b, y);
                ModelGen.Ops.MatMulBackward<float>(a, b, gy, da, false, db, false);
            }
            double tol = dtype == DType.Float64 ? 1e-10 : 1e-5;
            TensorRef.AssertClose(y.ToDoubleArray(), T(c.GetProperty("output")).Data, tol, $"matmul {dtype} output");
            TensorRef.AssertClose(da.ToDoubleArray(), T(c.GetProperty("grad_a")).Data, tol, $"matmul {dtype} grad_a");
            TensorRef.AssertClose(db.ToDoubleArray(), T(c.GetProperty("grad_b")).Data, tol, $"matmul {dtype} grad_b");
        }
    }
}
