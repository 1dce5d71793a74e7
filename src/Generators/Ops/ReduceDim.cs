using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// A reduction over one dimension: Sum, Mean, Max, Min, Var and LogSumExp(x, dim, keepDim: false). The result drops the
/// dimension (or keeps it as 1). Negative dims count from the end. Math: src/Runtime/ModelGen.Runtime/Ops/ReduceDim.cs.
/// With x viewed as [outer, n, inner] and y = f(x[o, ·, i]):
/// <list type="bullet">
/// <item>Sum: dx = dy broadcast along dim; Mean: dy / n.</item>
/// <item>Max (Min): the gradient goes to the maximal entries; at ties it is split evenly among them (torch.amax's rule:
/// dx_j = dy·[x_j = y]/#{k : x_k = y}, the subgradient that is symmetric in the tied entries).</item>
/// <item>Var: with m the mean and d = n − 1 (unbiased) or n, y = Σ_j (x_j − m)²/d, so ∂y/∂x_j = 2(x_j − m)/d − (2/d)·Σ_k (x_k − m)/n
/// and the second term vanishes (Σ_k (x_k − m) = 0): dx_j = dy·2(x_j − m)/d.</item>
/// <item>LogSumExp: y = log Σ_j e^{x_j}, so ∂y/∂x_j = e^{x_j}/Σ_k e^{x_k} = e^{x_j − y}: dx_j = dy·exp(x_j − y), a softmax.</item>
/// </list>
/// </summary>
public abstract class ReduceDimRule(string name) : TensorFunctionRule
{
    public override string Name => name;

    public override IReadOnlyList<FunctionArg> Arguments { get; } = name == "Var"
        ? new[] { new FunctionArg("x", ArgKind.Tensor), new FunctionArg("dim", ArgKind.Int), new FunctionArg("keepDim", ArgKind.Bool, 0), new FunctionArg("unbiased", ArgKind.Bool, 1) }
        : new[] { new FunctionArg("x", ArgKind.Tensor), new FunctionArg("dim", ArgKind.Int), new FunctionArg("keepDim", ArgKind.Bool, 0) };

    /// <summary>The result without the dimension, or with it as 1; a dim outside the rank is MG0021.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
        => DimShape(ctx, node, inputs[0], IntArg(node, "dim"), BoolArg(node, "keepDim") ? 1 : 0);

    /// <summary>The shape after an op over <paramref name="dim"/>: <paramref name="mode"/> 0 drops it, 1 keeps it as 1,
    /// 2 keeps the shape (Softmax).</summary>
    internal static SymShape DimShape(ShapeContext ctx, Node node, SymShape input, int dim, int mode)
    {
        var u = ctx.Unifier;
        var x = u.Resolve(input);
        int index;
        if (x.Rest is null)
        {
            if (Normalize(dim, System.Math.Max(1, x.Dims.Count)) is not int d)
            {
                int rank = x.Dims.Count;
                ctx.Report(ShapeDiagnosticIds.DimRange, node,
                    $"{node.Function}: dim {dim} is out of range for {ShapeContext.DescribeArgument(node, 0)} of shape {u.Format(x)} (dims {-System.Math.Max(1, rank)} to {System.Math.Max(1, rank) - 1})");
                return u.NewShape();
            }
            if (x.Dims.Count == 0) return x;
            index = d;
        }
        else if (dim < 0 && -dim <= x.Dims.Count) index = x.Dims.Count + dim;
        else return mode == 2 ? x : u.NewShape();
        if (mode == 2) return x;
        var dims = x.Dims.ToList();
        if (mode == 1) dims[index] = Dim.Const(1);
        else dims.RemoveAt(index);
        return new SymShape(x.Rest, dims);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.ReduceShape({s[0]}, {IntArg(node, "dim")}, {Bool(BoolArg(node, "keepDim"))}, \"{Name}\")";

    private string DimText(Node node) => IntArg(node, "dim").ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override void EmitForward(EmitContext ctx, Node node)
    {
        string x = ctx.Value(node.Inputs[0]), y = ctx.Value(node.Id), dim = DimText(node);
        ctx.Writer.Line(Name switch
        {
            "Sum" or "Mean" => $"global::ModelGen.Ops.SumDim<T>({x}, {y}, {dim}, mean: {Bool(Name == "Mean")});",
            "Max" or "Min" => $"global::ModelGen.Ops.MaxDim<T>({x}, {y}, {dim}, min: {Bool(Name == "Min")});",
            "Var" => $"global::ModelGen.Ops.VarDim<T>({x}, {y}, {dim}, unbiased: {Bool(BoolArg(node, "unbiased"))});",
            _ => $"global::ModelGen.Ops.LogSumExpDim<T>({x}, {y}, {dim});",
        });
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        string x = ctx.Value(node.Inputs[0]), y = ctx.Value(node.Id), dy = ctx.Grad(node.Id), dim = DimText(node);
        ctx.Writer.Line(t.Guard + Name switch
        {
            "Sum" or "Mean" => $"global::ModelGen.Ops.SumDimBackward<T>({dy}, {t.Tensor}, {dim}, mean: {Bool(Name == "Mean")}, {t.Accumulate});",
            "Max" or "Min" => $"global::ModelGen.Ops.MaxDimBackward<T>({x}, {y}, {dy}, {t.Tensor}, {dim}, min: {Bool(Name == "Min")}, {t.Accumulate});",
            "Var" => $"global::ModelGen.Ops.VarDimBackward<T>({x}, {dy}, {t.Tensor}, {dim}, unbiased: {Bool(BoolArg(node, "unbiased"))}, {t.Accumulate});",
            _ => $"global::ModelGen.Ops.LogSumExpDimBackward<T>({x}, {y}, {dy}, {t.Tensor}, {dim}, {t.Accumulate});",
        });
    }
}

// one registered rule per name (FunctionRule registers its parameterless subclasses)
public sealed class SumDimRule() : ReduceDimRule("Sum");
public sealed class MeanDimRule() : ReduceDimRule("Mean");
public sealed class MaxDimRule() : ReduceDimRule("Max");
public sealed class MinDimRule() : ReduceDimRule("Min");
public sealed class VarDimRule() : ReduceDimRule("Var");
public sealed class LogSumExpDimRule() : ReduceDimRule("LogSumExp");
