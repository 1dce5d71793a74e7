using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = (x − mean)·rstd·w + b over the last dimension; keeps (mean, rstd) per row.
/// Backward (llm.c): with x̂ = (x − mean)·rstd and g = w ⊙ dy,
///   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),   dw += Σ_rows dy ⊙ x̂,   db += Σ_rows dy.
/// </summary>
public sealed class LayerNormRule : OpRule
{
    public override OpKind Kind => OpKind.LayerNorm;

    /// <summary>x [..., dim] → the same shape; the last dimension must be the layer's dim (MG0002).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        var dim = ctx.LayerDim(layer, LayerArgs.Find(layer, 0, "dim"), "dim");
        var x = inputs[0];
        var last = ctx.Unifier.LastDim(x);
        if (last is null || ctx.Unifier.Unify(last, dim) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.LayerNormInput, node,
                $"LayerNorm layer '{layer.Name}' normalises […, {ctx.Unifier.Format(dim)}] but {ShapeContext.DescribeArgument(node, 0)} has shape {ctx.Format(x)}", layer.Name);
            return ctx.Unifier.NewShape();
        }
        return x;
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.LayerNormShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => new[] { ($"ln{node.Id}", (string?)$"new global::ModelGen.Shape(s{node.Id}.Rows, 2)") };

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.LayerNormForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, p.ln{node.Id});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"global::ModelGen.Ops.LayerNormBackward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Grad(node.Id)}, p.ln{node.Id}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{node.Layer}({i[0]})";
}
