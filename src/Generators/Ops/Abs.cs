using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = |x|.
/// dx = dy ⊙ sign(x), with sign(0) = 0 as in PyTorch (the subgradient that keeps a zero input where it is).
/// Math: src/Runtime/ModelGen.Runtime/Ops/Abs.cs.
/// </summary>
public sealed class AbsRule : FunctionRule
{
    public override string Name => "Abs";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Abs({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.AbsGrad({a[0]}, {g})") };
}
