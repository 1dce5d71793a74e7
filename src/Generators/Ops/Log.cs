using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = ln x (NaN below 0, −∞ at 0, as in PyTorch).
/// dx = dy / x.
/// Math: src/Runtime/ModelGen.Runtime/Ops/Log.cs.
/// </summary>
public sealed class LogRule : FunctionRule
{
    public override string Name => "Log";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Log({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.LogGrad({a[0]}, {g})") };
}
