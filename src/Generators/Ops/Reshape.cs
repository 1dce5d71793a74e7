using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>x.Reshape(dims) (one may be −1): a view, no copy. Its gradient is the same memory seen with the input's
/// shape, so the backward is free — except when the input comes from outside this plan (a Forward argument, a nested
/// model), where the gradient is added to the input's.</summary>
public class ReshapeRule : OpRule
{
    public override OpKind Kind => OpKind.Reshape;
    public override bool IsView => true;

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Shape.Resolve({s[0]}, new int[] {{ {string.Join(", ", node.Dims)} }})";

    public override void EmitForward(EmitContext ctx, Node node)
    {
        if (ctx.IsExternal(node.Inputs[0]))
            ctx.Writer.Line($"{ctx.Value(node.Id)} = global::ModelGen.Ops.CachedView({ctx.Value(node.Inputs[0])}, p.s{node.Id}, ref p.cs{node.Id}, ref p.cv{node.Id});");
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        if (!ctx.IsExternal(node.Inputs[0])) return; // the gradient already is the input's (a view of it)
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.AddInto<T>({t.Tensor}, {ctx.Grad(node.Id)}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]}.Reshape({string.Join(", ", node.Dims)})";
}

/// <summary>Flatten: [B, ...] → [B, N], a view.</summary>
public sealed class FlattenRule : ReshapeRule
{
    public override OpKind Kind => OpKind.Flatten;
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => $"global::ModelGen.Ops.FlattenShape({s[0]})";
    public override string Describe(Node node, IReadOnlyList<string> i) => $"flatten({i[0]})";
}
