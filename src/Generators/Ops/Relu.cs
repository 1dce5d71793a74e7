using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>y = max(x, 0); dx = dy ⊙ (x &gt; 0). Fuses into a GEMM epilogue (the mask is read from y).</summary>
public sealed class ReluRule : OpRule
{
    public override OpKind Kind => OpKind.Relu;
    public override bool IsElementwise => true;
    public override string EpilogueActivation => "ReluActivation";
    public override string Forward(IReadOnlyList<string> a, Node node) => $"VMath.Relu({a[0]})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"VMath.ReluGrad({a[0]}, {g})") };
}
