using System.Collections.Generic;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// Softmax(x, dim) and LogSoftmax(x, dim) over any dimension (negative counts from the end); <c>Softmax(x)</c> is the
/// last-dimension rule in Softmax.cs. Along dim: softmax dx = y ⊙ (dy − Σ dy⊙y); log_softmax dx = dy − e^y · Σ dy.
/// Math: src/Runtime/ModelGen.Runtime/Ops/SoftmaxDim.cs.
/// </summary>
public abstract class SoftmaxDimRule(string name, bool log) : TensorFunctionRule
{
    public override string Name => name;
    public override IReadOnlyList<FunctionArg> Arguments { get; } = new[] { new FunctionArg("x", ArgKind.Tensor), new FunctionArg("dim", ArgKind.Int) };

    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
        => ReduceDimRule.DimShape(ctx, node, inputs[0], IntArg(node, "dim"), mode: 2);

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.DimShape({s[0]}, {IntArg(node, "dim")}, \"{Name}\")";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.SoftmaxDim<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, {IntArg(node, "dim")}, log: {Bool(log)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.SoftmaxDimBackward<T>({ctx.Value(node.Id)}, {ctx.Grad(node.Id)}, {t.Tensor}, {IntArg(node, "dim")}, log: {Bool(log)}, {t.Accumulate});");
    }
}

public sealed class SoftmaxOverDimRule() : SoftmaxDimRule("Softmax", log: false);
public sealed class LogSoftmaxOverDimRule() : SoftmaxDimRule("LogSoftmax", log: true);
