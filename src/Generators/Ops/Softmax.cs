using System.Collections.Generic;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// Softmax / LogSoftmax over the last dimension (row-wise runtime routines).
/// softmax:     dx = y ⊙ (dy − Σ_c dy⊙y)
/// log_softmax: dx = dy − softmax(x) · Σ_c dy, with softmax(x) = exp(y)
/// A CrossEntropy head on the logits uses the fused softmax+cross-entropy routine instead (see the emitter).
/// </summary>
public sealed class SoftmaxRule(bool log) : OpRule
{
    public override OpKind Kind => log ? OpKind.LogSoftmax : OpKind.Softmax;
    private string Name => log ? "LogSoftmax" : "Softmax";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.{Name}<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.{Name}Backward<T>({ctx.Value(node.Id)}, {ctx.Grad(node.Id)}, {t.Tensor}, {t.Accumulate});");
    }
}
