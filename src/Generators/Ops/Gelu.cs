using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// Exact GELU (BERT's "gelu"): y = x·Φ(x) = ½x(1 + erf(x/√2)).
/// dx = dy ⊙ (Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π). Needs x, so it is not a GEMM epilogue; the backward recomputes
/// from x inside the fused kernel instead of storing Φ.
/// </summary>
public sealed class GeluRule : OpRule
{
    public override OpKind Kind => OpKind.Gelu;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"VMath.Gelu({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"VMath.GeluGrad({a[0]}, {g})") };
}

/// <summary>
/// GELU, tanh approximation (GPT-2): y = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³).
/// dx = dy ⊙ (½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)).
/// </summary>
public sealed class GeluTanhRule : OpRule
{
    public override OpKind Kind => OpKind.GeluTanh;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"VMath.GeluTanh({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"VMath.GeluTanhGrad({a[0]}, {g})") };
}
