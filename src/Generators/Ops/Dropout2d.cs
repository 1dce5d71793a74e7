using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>Dropout2d: training y = x ⊙ m with one m = (u ≥ p)/(1 − p) per (sample, channel) plane; evaluation y = x
/// (an all-ones mask). dx = dy ⊙ m.</summary>
public sealed class Dropout2dRule : OpRule
{
    public override OpKind Kind => OpKind.Dropout2d;

    /// <summary>[n, c, h, w] → the same; rank 4 (MG0018).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        return (layer is null ? null : Nchw.Input(ctx, node, inputs[0], $"Dropout2d layer '{layer.Name}'")) ?? ctx.Unifier.NewShape();
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.Dropout2dShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => new[] { ($"m{node.Id}", (string?)$"global::ModelGen.Ops.Dropout2dMaskShape(s{node.Id})") };

    public override void EmitForward(EmitContext ctx, Node node)
    {
        var x = ctx.Value(node.Inputs[0]);
        ctx.Writer.Line($"if (Training) global::ModelGen.Ops.Dropout2d<T>({ctx.Layer(node.Layer)}, {x}, p.m{node.Id}, {ctx.Value(node.Id)}, Seed, Step);");
        ctx.Writer.Line($"else global::ModelGen.Ops.Dropout2dIdentity<T>({x}, p.m{node.Id}, {ctx.Value(node.Id)});");
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.Dropout2dBackward<T>({ctx.Grad(node.Id)}, p.m{node.Id}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{node.Layer}({i[0]})";
}
