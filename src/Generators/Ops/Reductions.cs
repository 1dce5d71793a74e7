using System.Collections.Generic;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>Sum or Mean of all elements → a scalar. dx = dy (or dy / n), broadcast.</summary>
public sealed class SumRule(bool mean) : OpRule
{
    public override OpKind Kind => mean ? OpKind.Mean : OpKind.Sum;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => SymShape.Scalar;
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => "global::ModelGen.Shape.Scalar";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.Sum<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, mean: {(mean ? "true" : "false")});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.SumBackward<T>({ctx.Grad(node.Id)}, {t.Tensor}, mean: {(mean ? "true" : "false")}, {t.Accumulate});");
    }
}

/// <summary>Mean squared error → a scalar. da = 2(a − b)/n · dy, db = −da.</summary>
public sealed class MseRule : OpRule
{
    public override OpKind Kind => OpKind.Mse;

    /// <summary>The target must have the prediction's shape (MG0010); the result is a scalar.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        string p = ctx.Format(inputs[0]), t = ctx.Format(inputs[1]);
        if (ctx.Unifier.Unify(inputs[0], inputs[1]) == Unification.Conflict)
            ctx.Report(ShapeDiagnosticIds.MseTarget, node,
                $"MseLoss needs a target of the prediction's shape but prediction {ShapeContext.DescribeArgument(node, 0)} has shape {p} and target {ShapeContext.DescribeArgument(node, 1)} has shape {t}");
        return SymShape.Scalar;
    }
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.MseShape({s[0]}, {s[1]})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.Mse<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var a = ctx.Contribute(node.Inputs[0]);
        var b = ctx.Contribute(node.Inputs[1]);
        ctx.Writer.Line($"global::ModelGen.Ops.MseBackward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Grad(node.Id)}, {a.Tensor}, {a.Accumulate}, {b.Tensor}, {b.Accumulate});");
    }
}
