using System.Collections.Generic;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>y = a + b (same shapes; residual connections). da += dy, db += dy.</summary>
public sealed class AddRule : OpRule
{
    public override OpKind Kind => OpKind.Add;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => SameShapes(ctx, node, inputs, "+");

    /// <summary>The shape rule of + and −: the shapes must be equal (the runtime's rule: ModelGen does not broadcast);
    /// shapes that certainly differ, in a dimension or in rank, are MG0006.</summary>
    internal static SymShape SameShapes(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs, string op)
    {
        var a = ctx.Unifier.Resolve(inputs[0]);
        var b = ctx.Unifier.Resolve(inputs[1]);
        string before = ctx.Format(a), beforeB = ctx.Format(b);
        if (ctx.Unifier.Unify(a, b) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.ElementwiseShapes, node,
                $"'{op}' needs equal shapes but {ShapeContext.DescribeArgument(node, 0)} has shape {before} and {ShapeContext.DescribeArgument(node, 1)} has shape {beforeB} (ModelGen does not broadcast)");
            return ctx.Unifier.NewShape();
        }
        return a;
    }
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
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => AddRule.SameShapes(ctx, node, inputs, "-");
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

/// <summary>y = a ⊙ b (same shapes: a gate, a mask, a layer scale). da = dy ⊙ b, db = dy ⊙ a.</summary>
public sealed class MulRule : OpRule
{
    public override OpKind Kind => OpKind.Mul;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => AddRule.SameShapes(ctx, node, inputs, "*");
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} * {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"{g} * {a[1]}"), (1, $"{g} * {a[0]}") };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.SameShape({s[0]}, {s[1]}, \"*\")";
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} * {i[1]}";
}

/// <summary>
/// y = a / b (same shapes). da = dy / b; db = −dy·a / b² (from ∂(a·b⁻¹)/∂b = −a·b⁻²), written with the inputs
/// rather than y so that the fused backward recomputes nothing it does not already hold.
/// </summary>
public sealed class DivRule : OpRule
{
    public override OpKind Kind => OpKind.Div;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => AddRule.SameShapes(ctx, node, inputs, "/");
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} / {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"{g} / {a[1]}"), (1, $"-({g} * {a[0]} / ({a[1]} * {a[1]}))") };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.SameShape({s[0]}, {s[1]}, \"/\")";
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} / {i[1]}";
}

/// <summary>y = x + c for a constant c. dx = dy. Math: src/Runtime/ModelGen.Runtime/Ops/Arithmetic.cs.</summary>
public sealed class AddScalarRule : OpRule
{
    public override OpKind Kind => OpKind.AddScalar;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Shift({a[0]}, VMath.C<T>({Num(node.Scalar)}))";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, g) };
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} + {Num(node.Scalar)}";
}
