using System.Collections.Generic;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>y = a + b (same shapes; residual connections). da += dy, db += dy.</summary>
public sealed class AddRule : OpRule
{
    public override OpKind Kind => OpKind.Add;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} + {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, g), (1, g) };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.SameShape({s[0]}, {s[1]}, \"+\")";
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} + {i[1]}";
}

/// <summary>y = a − b. da += dy, db −= dy.</summary>
public sealed class SubRule : OpRule
{
    public override OpKind Kind => OpKind.Sub;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} - {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, g), (1, $"-{g}") };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.SameShape({s[0]}, {s[1]}, \"-\")";
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} - {i[1]}";
}

/// <summary>y = −x. dx = −dy.</summary>
public sealed class NegRule : OpRule
{
    public override OpKind Kind => OpKind.Neg;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"-{a[0]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"-{g}") };
}

/// <summary>y = x·s for a constant s (also x / c as s = 1/c). dx = dy·s.</summary>
public sealed class MulScalarRule : OpRule
{
    public override OpKind Kind => OpKind.MulScalar;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} * VMath.C<T>({Num(node.Scalar)})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"{g} * VMath.C<T>({Num(node.Scalar)})") };
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} * {Num(node.Scalar)}";
}
