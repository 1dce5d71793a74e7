using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = softplus(x) = log(1 + eˣ).
/// dx = dy ⊙ eˣ/(1 + eˣ) = dy ⊙ σ(x). The derivative needs x (σ(x) = 1 − e^−y would lose digits for large x), so it is
/// not a GEMM epilogue; the fused backward recomputes from x. Math: src/Runtime/ModelGen.Runtime/Ops/Softplus.cs.
/// </summary>
public sealed class SoftplusRule : FunctionRule
{
    public override string Name => "Softplus";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Softplus({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.SoftplusGrad({a[0]}, {g})") };
}
