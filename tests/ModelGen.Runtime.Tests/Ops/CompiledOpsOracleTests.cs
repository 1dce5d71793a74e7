using System.Text.Json;
using ModelGen.Tests.Reference;

namespace ModelGen.Tests.Ops;

/// <summary>
/// The compiled (generated) forms of the two-operand ops against PyTorch's values in
/// tests/oracle/fixtures/tensor_ops.json: broadcasting add, sub, mul, div, maximum and minimum, and torch.matmul, through
/// the models of BroadcastTests and TensorAlgebraTests — forward and both operands' gradients (summed over broadcast
/// copies) in float64 within 1e-12.
/// </summary>
public class CompiledOpsOracleTests
{
    private static readonly Lazy<JsonElement[]> Fixture = new(() =>
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "tensor_ops.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone()).ToArray();
    });

    private static readonly Dictionary<string, Func<Module>> Models = new()
    {
        ["add"] = () => new BroadcastAddOp(Device.Cpu, 0, DType.Float64),
        ["sub"] = () => new BroadcastSubOp(Device.Cpu, 0, DType.Float64),
        ["mul"] = () => new BroadcastMulOp(Device.Cpu, 0, DType.Float64),
        ["div"] = () => new BroadcastDivOp(Device.Cpu, 0, DType.Float64),
        ["maximum"] = () => new BroadcastMaximumOp(Device.Cpu, 0, DType.Float64),
        ["minimum"] = () => new BroadcastMinimumOp(Device.Cpu, 0, DType.Float64),
        ["matmul"] = () => new MatMulOp(Device.Cpu, 0, DType.Float64),
    };

    private static (int[] Shape, double[] Data) T(JsonElement e)
        => (e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(), e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray());

    public static IEnumerable<TestCaseData> Cases()
    {
        var cases = Fixture.Value;
        for (int i = 0; i < cases.Length; i++)
        {
            var op = cases[i].GetProperty("op").GetString()!;
            if (!Models.ContainsKey(op)) continue;
            yield return new TestCaseData(i).SetName($"Compiled_{op}_{Shape.Format(T(cases[i].GetProperty("a")).Shape)}_{Shape.Format(T(cases[i].GetProperty("b")).Shape)}_#{i}");
        }
    }

    [Test]
    public void TheFixtureHasEveryOp() => Assert.That(Cases().Count(), Is.GreaterThanOrEqualTo(6 * 4 + 8));

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(int index)
    {
        var c = Fixture.Value[index];
        var (aShape, a) = T(c.GetProperty("a"));
        var (bShape, b) = T(c.GetProperty("b"));
        var (yShape, y) = T(c.GetProperty("output"));
        var (_, gy) = T(c.GetProperty("grad_output"));
        using dynamic model = Models[c.GetProperty("op").GetString()!]();
        using var ta = Tensor.From<double>(a, new Shape(aShape), DType.Float64);
        using var tb = Tensor.From<double>(b, new Shape(bShape), DType.Float64);
        ta.RequiresGrad = tb.RequiresGrad = true;
        Tensor output = model.Run(ta, tb);
        Assert.That(output.Shape, Is.EqualTo(new Shape(yShape)));
        TensorRef.AssertClose(output.ToDoubleArray(), y, 1e-12, "output");
        using var g = Tensor.From<double>(gy, new Shape(yShape), DType.Float64);
        model.Backward(g);
        TensorRef.AssertClose(ta.Grad!.ToDoubleArray(), T(c.GetProperty("grad_a")).Data, 1e-12, "grad_a");
        TensorRef.AssertClose(tb.Grad!.ToDoubleArray(), T(c.GetProperty("grad_b")).Data, 1e-12, "grad_b");
    }
}
