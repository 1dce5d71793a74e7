using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = eˣ.
/// dx = dy ⊙ eˣ (recomputed from x in the fused backward).
/// Math: src/Runtime/ModelGen.Runtime/Ops/Exp.cs.
/// </summary>
public sealed class ExpRule : FunctionRule
{
    public override string Name => "Exp";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Exp({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.ExpGrad({a[0]}, {g})") };
}
