using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = 1/√x.
/// dx = dy ⊙ d(x^−½)/dx = −½·dy·x^−3/2 = −½·dy·y/x.
/// Math: src/Runtime/ModelGen.Runtime/Ops/Rsqrt.cs.
/// </summary>
public sealed class RsqrtRule : FunctionRule
{
    public override string Name => "Rsqrt";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Rsqrt({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.RsqrtGrad({a[0]}, {g})") };
}
