using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = act(x·Wᵀ + b), W [out, in]. Forward: one GEMM (NT) with bias and activation in the epilogue.
/// Backward (with dY the gradient of y):
///   dZ = dY ⊙ act'(y)          in place, fused with db += Σ_rows dZ (one pass)
///   dW += dZᵀ · x              GEMM TN, accumulating (parameters accumulate)
///   dx (+)= dZ · W             GEMM NN, skipped when x needs no gradient
/// </summary>
public sealed class LinearRule : OpRule
{
    public override OpKind Kind => OpKind.Linear;

    public static string InFeatures(LayerSpec layer) => Dim(layer, 0, InNames);
    public static string OutFeatures(LayerSpec layer) => Dim(layer, 1, OutNames);

    private static readonly string[] InNames = { "in_features", "inFeatures" };
    private static readonly string[] OutNames = { "out_features", "outFeatures" };

    /// <summary>The constructor argument giving the input features (positional or named), or null.</summary>
    public static ArgSpec? InFeaturesArg(LayerSpec layer) => Arg(layer, 0, InNames);
    public static ArgSpec? OutFeaturesArg(LayerSpec layer) => Arg(layer, 1, OutNames);

    private static ArgSpec? Arg(LayerSpec layer, int position, string[] names)
        => layer.Args.FirstOrDefault(a => a.Name is not null && names.Contains(a.Name))
           ?? (layer.Args.Count > position && layer.Args[position].Name is null ? layer.Args[position] : null);

    private static string Dim(LayerSpec layer, int position, string[] names)
    {
        var arg = Arg(layer, position, names);
        if (arg is null) return layer.Name + (position == 0 ? ".in" : ".out");
        return arg.Constant is double c ? ((long)c).ToString(System.Globalization.CultureInfo.InvariantCulture) : arg.Text;
    }

    /// <summary>x [..., in] → [..., out]. The input's last dimension must be in_features (MG0001); an input whose
    /// features are not known yet (a Forward argument) learns them here.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        var inDim = ctx.LayerDim(layer, InFeaturesArg(layer), "in");
        var outDim = ctx.LayerDim(layer, OutFeaturesArg(layer), "out");
        var x = inputs[0];
        var last = ctx.Unifier.LastDim(x);
        if (last is null)
        {
            ctx.Report(ShapeDiagnosticIds.LinearInput, node,
                $"Linear layer '{layer.Name}' expects input […, {ctx.Unifier.Format(inDim)}] but {ShapeContext.DescribeArgument(node, 0)} is a scalar []", layer.Name);
            return ctx.Unifier.NewShape();
        }
        if (ctx.Unifier.Unify(last, inDim) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.LinearInput, node,
                $"Linear layer '{layer.Name}' expects input […, {ctx.Unifier.Format(inDim)}] but {ShapeContext.DescribeArgument(node, 0)} has shape {ctx.Format(x)}{FlattenedImage(ctx, node)}", layer.Name);
        }
        return ctx.Unifier.WithLast(x, outDim);
    }

    /// <summary>The classic CNN mistake, a head sized for another image: when the input is Flatten of a known [N, C, H, W],
    /// the message shows where its size comes from (": Flatten makes C·H·W = 64·7·7 = 3136 features of [?, 64, 7, 7]").</summary>
    private static string FlattenedImage(ShapeContext ctx, Node node)
    {
        var source = ctx.InputNode(node, 0);
        if (source is not { Kind: OpKind.Flatten } || ctx.ShapeOf(source.Inputs[0]) is not { Rest: null, Dims.Count: 4 } image) return "";
        var chw = image.Dims.Skip(1).ToList();
        if (chw.Any(d => d.Kind != DimKind.Const)) return "";
        return $": Flatten makes C·H·W = {string.Join("·", chw.Select(d => d.ToString()))} = {chw.Aggregate(1L, (a, d) => a * d.Value)} features of {ctx.Format(image)}";
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> inputShapes, EmitContext ctx)
        => $"global::ModelGen.Ops.LinearShape({inputShapes[0]}, {ctx.Layer(node.Layer)})";

    public override void EmitForward(EmitContext ctx, Node node) { }

    public static string ActivationType(OpKind? activation) => activation switch
    {
        null => "global::ModelGen.Cpu.Identity<T>",
        var kind => $"global::ModelGen.Cpu.{For(kind.Value).EpilogueActivation}<T>",
    };

    public void EmitForward(EmitContext ctx, LinearStep step)
    {
        var x = step.Linear.Inputs[0];
        ctx.Writer.Line($"global::ModelGen.Ops.LinearForward<T, {ActivationType(step.Linear.FusedActivation)}>({ctx.Layer(step.Linear.Layer)}, {ctx.Value(x)}, {ctx.Value(step.Output.Id)});");
    }

    public void EmitBackward(EmitContext ctx, LinearStep step)
    {
        var x = step.Linear.Inputs[0];
        var target = ctx.Contribute(x);
        ctx.Writer.Line($"global::ModelGen.Ops.LinearBackward<T, {ActivationType(step.Linear.FusedActivation)}>({ctx.Layer(step.Linear.Layer)}, {ctx.Value(x)}, {ctx.Value(step.Output.Id)}, {ctx.Grad(step.Output.Id)}, {target.Tensor}, {target.Accumulate});");
    }
}
