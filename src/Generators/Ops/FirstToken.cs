using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>y[b] = x[b, 0, :] (the [CLS] position). Backward: dx[b, 0, :] += dy[b], zero elsewhere.</summary>
public sealed class FirstTokenRule : OpRule
{
    public override OpKind Kind => OpKind.FirstToken;

    /// <summary>[batch, seq, hidden] → [batch, hidden]; another rank is MG0018.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var u = ctx.Unifier;
        var x = SymShape.Of(u.NewDim(), u.NewDim(), u.NewDim());
        string before = ctx.Format(inputs[0]);
        if (u.Unify(inputs[0], x) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.Rank, node, $"FirstToken needs [batch, seq, hidden] but {ShapeContext.DescribeArgument(node, 0)} has shape {before}");
            return u.NewShape();
        }
        return SymShape.Of(x.Dims[0], x.Dims[2]);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => $"global::ModelGen.Ops.FirstTokenShape({s[0]})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.FirstTokenForward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.FirstTokenBackward<T>({ctx.Grad(node.Id)}, {t.Tensor}, {t.Accumulate});");
    }
}
