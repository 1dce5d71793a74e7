using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>y = tanh(x); dx = dy ⊙ (1 − y²).</summary>
public sealed class TanhRule : OpRule
{
    public override OpKind Kind => OpKind.Tanh;
    public override bool IsElementwise => true;
    public override string EpilogueActivation => "TanhActivation";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"VMath.Tanh({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"VMath.TanhGrad({y}, {g})") };
}
