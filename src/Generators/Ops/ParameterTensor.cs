using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>
/// A [Parameter] or [Buffer] tensor field read in Forward: a leaf whose value is the field (the bound parameter) and
/// whose gradient is the parameter's, accumulated like a layer's weight (every use in Forward adds to one gradient; a
/// frozen parameter or a buffer gets none). Its shape is the initializer's dimensions (constants, or symbols for
/// constructor parameters); a tensor whose values are given (not a factory or an Init spec) has a shape known only at
/// run time.
/// </summary>
public sealed class ParameterTensorRule : OpRule
{
    public override OpKind Kind => OpKind.ParameterTensor;
    public override bool IsExternal => true;

    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        if (IsLayerParameter(node)) return LayerParameterShape(ctx, node);
        var field = ctx.Layer(node.Layer);
        if (field is null || field.TypeName is "AsGiven" or "NotATensor") return ctx.Unifier.NewShape();
        return new SymShape(null, field.Args.Where(a => a.Name == "dim").Select(ctx.ArgDim).ToArray());
    }

    /// <summary>A layer's Weight or Bias read as a tensor ("wte.Weight": weight tying), not a [Parameter] field.</summary>
    public static bool IsLayerParameter(Node node) => node.Layer.Contains(".");

    /// <summary>Linear: Weight [out, in], Bias [out]; Embedding: Weight [count, dim]; LayerNorm, BatchNorm2d: [n];
    /// Conv2d's Weight [out, in/groups, k, k] is known at run time only.</summary>
    private static SymShape LayerParameterShape(ShapeContext ctx, Node node)
    {
        int dot = node.Layer.IndexOf('.');
        var layer = ctx.Layer(node.Layer.Substring(0, dot));
        bool weight = node.Layer.Substring(dot + 1) == "Weight";
        if (layer is null) return ctx.Unifier.NewShape();
        switch (layer.Kind)
        {
            case LayerKind.Linear:
                {
                    var outDim = ctx.LayerDim(layer, LinearRule.OutFeaturesArg(layer), "out");
                    return weight ? SymShape.Of(outDim, ctx.LayerDim(layer, LinearRule.InFeaturesArg(layer), "in")) : SymShape.Of(outDim);
                }
            case LayerKind.Embedding:
                return SymShape.Of(ctx.LayerDim(layer, LayerArgs.Find(layer, 0, "count"), "count"), ctx.LayerDim(layer, LayerArgs.Find(layer, 1, "dim"), "dim"));
            case LayerKind.LayerNorm:
                return SymShape.Of(ctx.LayerDim(layer, LayerArgs.Find(layer, 0, "dim"), "dim"));
            default:
                return ctx.Unifier.NewShape();
        }
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> inputShapes, EmitContext ctx) => $"this.{node.Layer}.Shape";

    /// <summary>The expression for the node's bound <c>Parameter</c>.</summary>
    public static string Bound(Node node) => IsLayerParameter(node) ? node.Layer + "!" : ParameterField(node.Layer) + "!";

    /// <summary>The generated field holding the bound <c>Parameter</c> of a [Parameter]/[Buffer] tensor field.</summary>
    public static string ParameterField(string field) => $"__{field.TrimStart('@')}Parameter";

    public override string Describe(Node node, IReadOnlyList<string> inputs) => node.Layer;
}
