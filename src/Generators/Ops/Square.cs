using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = x².
/// dx = 2x ⊙ dy.
/// Math: src/Runtime/ModelGen.Runtime/Ops/Square.cs.
/// </summary>
public sealed class SquareRule : FunctionRule
{
    public override string Name => "Square";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Square({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.SquareGrad({a[0]}, {g})") };
}
