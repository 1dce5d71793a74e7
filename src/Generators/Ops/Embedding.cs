using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>y[i] = W[ids[i]] (ids an integer tensor: Int32, or Int64 converted at the call). Backward: dW[ids[i]] += dy[i] (scatter-add; the padding row gets
/// none). The ids get no gradient.</summary>
public sealed class EmbeddingRule : OpRule
{
    public override OpKind Kind => OpKind.Embedding;

    public override Need InputNeed(Node node, int index) => Need.Index;

    /// <summary>ids [...] → [..., dim]. A mismatch of dim with what consumes the output is reported by the consumer.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        var dim = ctx.LayerDim(layer, LayerArgs.Find(layer, 1, "dim"), "dim");
        var ids = ctx.Unifier.Resolve(inputs[0]);
        return new SymShape(ids.Rest, ids.Dims.Concat(new[] { dim }).ToArray());
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.EmbeddingShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.EmbeddingForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.EmbeddingBackward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Grad(node.Id)});");

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{node.Layer}[{i[0]}]";
}
