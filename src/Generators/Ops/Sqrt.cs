using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = √x.
/// dx = dy / (2√x).
/// Math: src/Runtime/ModelGen.Runtime/Ops/Sqrt.cs.
/// </summary>
public sealed class SqrtRule : FunctionRule
{
    public override string Name => "Sqrt";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Sqrt({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.SqrtGrad({a[0]}, {g})") };
}
