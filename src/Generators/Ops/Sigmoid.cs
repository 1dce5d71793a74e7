using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>y = 1 / (1 + e^−x); dx = dy ⊙ y(1 − y).</summary>
public sealed class SigmoidRule : OpRule
{
    public override OpKind Kind => OpKind.Sigmoid;
    public override bool IsElementwise => true;
    public override string EpilogueActivation => "SigmoidActivation";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"VMath.Sigmoid({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"VMath.SigmoidGrad({y}, {g})") };
}
