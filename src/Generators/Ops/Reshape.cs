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

    /// <summary>A view holds what its input holds: ids reshaped are still ids.</summary>
    public override Need InputNeed(Node node, int index) => Need.Same;
    public override ElementKind OutputType(Node node, IReadOnlyList<ElementKind> inputs) => inputs[0];

    /// <summary>The new shape (one −1 inferred); the element count must not change (MG0007). Certain only when the
    /// input's rank is known and its non-constant dimensions cancel out.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var u = ctx.Unifier;
        var dims = node.Dims;
        var x = u.Resolve(inputs[0]);
        var count = u.Count(x);
        int inferred = System.Array.IndexOf(dims, -1);
        string target = "(" + string.Join(", ", dims) + ")";
        string Fail(string why)
        {
            ctx.Report(ShapeDiagnosticIds.ReshapeCount, node, $"cannot reshape {ShapeContext.DescribeArgument(node, 0)} of shape {ctx.Format(x)} to {target}: {why}");
            return why;
        }
        if (dims.Count(d => d == -1) > 1 || dims.Any(d => d < -1))
        {
            Fail("only one dimension may be -1 and the others must be positive");
            return u.NewShape();
        }
        long known = dims.Where(d => d != -1).Aggregate(1L, (a, d) => a * d);
        var result = dims.Select(d => Dim.Const(d)).ToArray();
        if (count is not { } c)
        {
            if (inferred >= 0) result[inferred] = u.NewDim();
            return SymShape.Of(result);
        }
        if (inferred < 0)
        {
            if (c.Others.Count == 0 && c.Constant != known)
            {
                Fail($"{c.Constant} elements cannot become {known}");
                return u.NewShape();
            }
            return SymShape.Of(result);
        }
        if (known == 0)
        {
            result[inferred] = u.NewDim();
            return SymShape.Of(result);
        }
        if (c.Constant % known != 0)
        {
            if (c.Others.Count == 0)
            {
                Fail($"{c.Constant} elements are not a multiple of {known}");
                return u.NewShape();
            }
            result[inferred] = u.NewDim();
            return SymShape.Of(result);
        }
        long factor = c.Constant / known;
        result[inferred] = c.Others.Count == 0 ? Dim.Const(factor) : c.Others.Count == 1 && factor == 1 ? c.Others[0] : u.NewDim();
        return SymShape.Of(result);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Shape.Resolve({s[0]}, new int[] {{ {string.Join(", ", node.Dims)} }})";

    public override void EmitForward(EmitContext ctx, Node node)
    {
        if (ctx.IsExternal(node.Inputs[0]))
            ctx.Writer.Line($"{ctx.Value(node.Id)} = global::ModelGen.Ops.CachedView({ctx.Value(node.Inputs[0])}, p.s{node.Id}, ref p.cs{node.Id}, ref p.cv{node.Id});");
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        if (!ctx.IsExternal(node.Inputs[0]) || !ctx.IsDifferentiable(node.Inputs[0])) return; // the gradient already is the input's (a view of it), or it has none
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.AddInto<T>({t.Tensor}, {ctx.Grad(node.Id)}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]}.Reshape({string.Join(", ", node.Dims)})";
}

/// <summary>Flatten: [B, ...] → [B, N], a view.</summary>
public sealed class FlattenRule : ReshapeRule
{
    public override OpKind Kind => OpKind.Flatten;

    /// <summary>[d0, d1, ...] → [d0, d1·d2·…], constant when the trailing dimensions are.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var u = ctx.Unifier;
        var x = u.Resolve(inputs[0]);
        if (x.Rest is not null || x.Dims.Count == 0) return SymShape.Of(u.NewDim(), u.NewDim());
        var tail = u.Count(new SymShape(null, x.Dims.Skip(1).ToArray()))!.Value;
        var n = tail.Others.Count == 0 ? Dim.Const(tail.Constant) : tail.Others.Count == 1 && tail.Constant == 1 ? tail.Others[0] : u.NewDim();
        return SymShape.Of(x.Dims[0], n);
    }
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => $"global::ModelGen.Ops.FlattenShape({s[0]})";
    public override string Describe(Node node, IReadOnlyList<string> i) => $"flatten({i[0]})";
}
