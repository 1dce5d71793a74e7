using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>A nested [Model] used as a layer: runs its own generated forward and backward (its activations live in
/// its own plan); the gradients of its inputs are added to ours.</summary>
public sealed class SubModelRule : OpRule
{
    public override OpKind Kind => OpKind.SubModel;

    /// <summary>The nested model checks its own inputs' dtypes.</summary>
    public override Need InputNeed(Node node, int index) => Need.Any;

    /// <summary>The nested model's Forward, checked with these inputs and its constructor arguments.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        return (layer is null ? null : ctx.ApplyNested(node, layer, inputs, ctx.Scope.Resolve(layer))) ?? ctx.Unifier.NewShape();
    }
    public override bool IsExternal => true;

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"{ctx.Layer(node.Layer)}.InferShape({string.Join(", ", s)})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"{ctx.Value(node.Id)} = {ctx.Layer(node.Layer)}.ForwardModule({string.Join(", ", node.Inputs.Select(ctx.Value))});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        ctx.Writer.Line($"{ctx.Layer(node.Layer)}.BackwardModule({ctx.Grad(node.Id)});");
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var t = ctx.Contribute(node.Inputs[i]);
            ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.AddInto<T>({t.Tensor}, {ctx.Layer(node.Layer)}.ModuleInputGrad({i}), {t.Accumulate});");
        }
    }
}

/// <summary>foreach (var block in blocks) h = block.Apply(h, extra...): the blocks' forwards in order, their
/// backwards in reverse, the gradient of h flowing from each block to the one before. Extra (loop-invariant) inputs
/// collect the gradient from every block.</summary>
public sealed class BlockLoopRule : OpRule
{
    public override OpKind Kind => OpKind.BlockLoop;

    /// <summary>The blocks check their own inputs' dtypes.</summary>
    public override Need InputNeed(Node node, int index) => Need.Any;

    /// <summary>One block applied to h; as every later block gets the previous one's output, a block must keep h's
    /// shape (MG0017, a warning: a list of one block would still run).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        var output = ctx.ApplyNested(node, layer, inputs, ctx.Scope.Resolve(layer));
        if (output is null) return ctx.Unifier.NewShape();
        string before = ctx.Format(inputs[0]), after = ctx.Format(output);
        if (ctx.Unifier.Unify(output, inputs[0]) == Unification.Conflict)
            ctx.Report(ShapeDiagnosticIds.BlockListShape, node,
                $"the blocks of '{layer.Name}' turn {before} into {after}, so every block after the first would get the wrong shape", layer.Name);
        return output;
    }
    public override bool IsExternal => true;

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
    {
        var extra = string.Concat(s.Skip(1).Select(x => ", " + x));
        return $"global::ModelGen.Ops.FoldShapes({ctx.Layer(node.Layer)}, {s[0]}, (b, h) => b.InferShape(h{extra}))";
    }

    public override void EmitForward(EmitContext ctx, Node node)
    {
        var w = ctx.Writer;
        var extras = string.Concat(node.Inputs.Skip(1).Select(i => ", " + ctx.Value(i)));
        w.Line("{");
        w.Line($"    var h = {ctx.Value(node.Inputs[0])};");
        w.Line($"    for (int i = 0; i < {ctx.Layer(node.Layer)}.Count; i++) h = {ctx.Layer(node.Layer)}[i].ForwardModule(h{extras});");
        w.Line($"    {ctx.Value(node.Id)} = h;");
        w.Line("}");
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var w = ctx.Writer;
        var list = ctx.Layer(node.Layer);
        var extraTargets = node.Inputs.Skip(1).Select(ctx.Contribute).ToList();
        w.Line("{");
        w.Line($"    var g = {ctx.Grad(node.Id)};");
        for (int e = 0; e < extraTargets.Count; e++) w.Line($"    bool accumulate{e + 1} = {extraTargets[e].Accumulate};");
        w.Line($"    for (int i = {list}.Count - 1; i >= 0; i--)");
        w.Line("    {");
        w.Line($"        {list}[i].BackwardModule(g);");
        for (int e = 0; e < extraTargets.Count; e++)
        {
            w.Line($"        {extraTargets[e].Guard}global::ModelGen.Ops.AddInto<T>({extraTargets[e].Tensor}, {list}[i].ModuleInputGrad({e + 1}), accumulate{e + 1});");
            w.Line($"        accumulate{e + 1} = true;");
        }
        w.Line($"        g = {list}[i].ModuleInputGrad(0);");
        w.Line("    }");
        var t = ctx.Contribute(node.Inputs[0]);
        w.Line($"    {t.Guard}global::ModelGen.Ops.AddInto<T>({t.Tensor}, g, {t.Accumulate});");
        w.Line("}");
    }
}
