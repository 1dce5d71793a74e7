using System.Collections.Generic;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>Training: y = x ⊙ m, m = (u ≥ p)/(1 − p) drawn from (seed, step, layer); eval: y = x. dx = dy ⊙ m
/// (in eval the mask is all ones, so the backward is the same code).</summary>
public sealed class DropoutRule : OpRule
{
    public override OpKind Kind => OpKind.Dropout;
    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node) => new[] { ($"m{node.Id}", (string?)null) };

    public override void EmitForward(EmitContext ctx, Node node)
    {
        var x = ctx.Value(node.Inputs[0]);
        ctx.Writer.Line($"if (Training) global::ModelGen.Ops.Dropout<T>({ctx.Layer(node.Layer)}, {x}, p.m{node.Id}, {ctx.Value(node.Id)}, Seed, Step);");
        ctx.Writer.Line($"else global::ModelGen.Ops.Identity<T>({x}, p.m{node.Id}, {ctx.Value(node.Id)});");
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.DropoutBackward<T>({ctx.Grad(node.Id)}, p.m{node.Id}, {t.Tensor}, {t.Accumulate});");
    }
}
