using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = silu(x) = x·σ(x) (SiLU, "swish").
/// dx = dy ⊙ (σ(x) + x·σ(x)(1 − σ(x))) = dy ⊙ σ(x)(1 + x(1 − σ(x))). Needs x, so it is not a GEMM epilogue; the fused
/// backward recomputes σ(x). Math: src/Runtime/ModelGen.Runtime/Ops/Silu.cs.
/// </summary>
public sealed class SiluRule : FunctionRule
{
    public override string Name => "Silu";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Silu({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.SiluGrad({a[0]}, {g})") };
}
