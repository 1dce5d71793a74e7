using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = minimum(a, b) element-wise (<c>torch.minimum</c>; a and b of one shape).
/// The gradient goes to the smaller input; where a = b it is split in half between them, as PyTorch does
/// (the subgradient that is symmetric in a and b): da = dy·[a &lt; b] + dy/2·[a = b], and db the same with a, b swapped.
/// Math: src/Runtime/ModelGen.Runtime/Ops/Minimum.cs.
/// </summary>
public sealed class MinimumRule : FunctionRule
{
    public override string Name => "Minimum";
    public override int Tensors => 2;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Minimum({a[0]}, {a[1]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.MinimumGrad({a[0]}, {a[1]}, {g})"), (1, $"global::ModelGen.Ops.MinimumGrad({a[1]}, {a[0]}, {g})") };
}
