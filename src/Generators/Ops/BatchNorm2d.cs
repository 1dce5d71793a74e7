using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>
/// BatchNorm2d: per channel y = (x − μ)/σ·w + b with the batch's statistics in training (updating the running ones) and
/// the running statistics in evaluation; keeps (μ, 1/σ) per channel and the mode. Backward (N values per channel,
/// x̂ = (x − μ)/σ): dw += Σ dy·x̂, db += Σ dy; training: dx = w/σ·(dy − Σdy/N − x̂·Σ(dy·x̂)/N); evaluation: dx = w/σ·dy.
/// </summary>
public sealed class BatchNorm2dRule : OpRule
{
    public override OpKind Kind => OpKind.BatchNorm2d;

    /// <summary>[n, c, h, w] → the same; rank 4 (MG0018); c must be num_features (MG0019).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        string what = $"BatchNorm2d layer '{layer.Name}'";
        var x = Nchw.Input(ctx, node, inputs[0], what);
        if (x is null) return ctx.Unifier.NewShape();
        var features = ctx.LayerDim(layer, LayerArgs.Find(layer, 0, "numFeatures", "num_features"), "features");
        if (!Nchw.Channels(ctx, node, x, features, $"{what} normalises {ctx.Unifier.Format(features)} channels", layer.Name)) return ctx.Unifier.NewShape();
        return ctx.Unifier.Resolve(x);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.BatchNorm2dShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => new[] { ($"bn{node.Id}", (string?)$"global::ModelGen.Ops.BatchNorm2dStatsShape(this.{node.Layer})") };

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.BatchNorm2dForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, p.bn{node.Id}, Training);");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"global::ModelGen.Ops.BatchNorm2dBackward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Grad(node.Id)}, p.bn{node.Id}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{node.Layer}({i[0]})";
}
