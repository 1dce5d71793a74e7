using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = x for x &gt; 0, slope·x otherwise (<c>F.leaky_relu(x, negative_slope)</c>; the slope is a number literal).
/// dx = dy for x &gt; 0, slope·dy otherwise (PyTorch's choice at 0).
/// Math: src/Runtime/ModelGen.Runtime/Ops/LeakyRelu.cs.
/// </summary>
public sealed class LeakyReluRule : FunctionRule
{
    public override string Name => "LeakyRelu";
    public override bool TakesNumber => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.LeakyRelu({a[0]}, VMath.C<T>({Num(node.Scalar)}))";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.LeakyReluGrad({a[0]}, {g}, VMath.C<T>({Num(node.Scalar)}))") };
}
