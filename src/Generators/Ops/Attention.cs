using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>
/// Multi-head self-attention, scale + additive padding mask + softmax + probability dropout fused: per batch b and
/// head h (d = hidden/heads),
///   P = softmax(Q_h·K_hᵀ/√d + (1 − mask_b)·(−10000)),  P' = P ⊙ M,  ctx_h = P'·V_h,
/// reading and writing the heads in place in [batch, seq, hidden]. M = (u ≥ p)/(1 − p) is the dropout mask of the
/// optional Dropout layer (training only; drawn from seed, step and layer like every dropout); without it P' = P.
/// Backward:
///   dV_h = P'ᵀ·dctx_h;  dP' = dctx_h·V_hᵀ;  dP = dP' ⊙ M;  dS = P ⊙ (dP − Σ_j dP⊙P)/√d;  dQ_h = dS·K_h;  dK_h = dSᵀ·Q_h.
/// M need not be stored: M_ij = P'_ij/P_ij where P_ij ≠ 0, and where P_ij = 0 the term P_ij·(…) vanishes, so
/// "dP' where P' ≠ 0, times 1/(1 − p)" gives the same dS. The mask gets no gradient.
/// </summary>
public sealed class AttentionRule : OpRule
{
    public override OpKind Kind => OpKind.Attention;

    /// <summary>query, key and value [batch, seq, hidden] of one shape and a [batch, seq] mask (MG0005); the head count
    /// must divide hidden (MG0008).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var u = ctx.Unifier;
        var q = SymShape.Of(u.NewDim(), u.NewDim(), u.NewDim());
        string[] names = { "query", "key", "value" };
        for (int i = 0; i < 3; i++)
        {
            string before = ctx.Format(inputs[i]), expected = ctx.Format(q);
            if (u.Unify(inputs[i], q) == Unification.Conflict)
            {
                ctx.Report(ShapeDiagnosticIds.MatMulBatch, node,
                    $"Attention needs query, key and value of one shape [batch, seq, hidden] but {names[i]} {ShapeContext.DescribeArgument(node, i)} has shape {before}{(i == 0 ? "" : $" and the query {expected}")}");
                return u.NewShape();
            }
        }
        var r = u.Resolve(q);
        string maskBefore = ctx.Format(inputs[3]);
        if (u.Unify(inputs[3], SymShape.Of(r.Dims[0], r.Dims[1])) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.MatMulBatch, node,
                $"Attention needs a padding mask [batch, seq] = [{u.Format(r.Dims[0])}, {u.Format(r.Dims[1])}] but {ShapeContext.DescribeArgument(node, 3)} has shape {maskBefore}");
            return u.NewShape();
        }
        var heads = node.Layer.StartsWith("this.", System.StringComparison.Ordinal)
            ? ctx.ArgDim(new ArgSpec(null, node.Layer.Substring(5), null))
            : ctx.ArgDim(new ArgSpec(null, node.Layer, null));
        var hidden = u.Resolve(r.Dims[2]);
        heads = u.Resolve(heads);
        if (heads.Kind == DimKind.Const && (heads.Value <= 0 || hidden.Kind == DimKind.Const && hidden.Value % heads.Value != 0))
            ctx.Report(ShapeDiagnosticIds.HeadsDivide, node,
                $"Attention with {heads.Value} heads needs a hidden size divisible by {heads.Value} but the hidden size is {u.Format(hidden)}");
        return r;
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.AttentionShape({s[0]}, {s[1]}, {s[2]}, {s[3]}, {node.Layer})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
    {
        var probs = (string?)$"global::ModelGen.Ops.AttentionProbsShape(s{node.Id}, {node.Layer})";
        yield return ($"attn{node.Id}", probs);
        if (node.ProbsDropout.Length > 0) yield return ($"attnd{node.Id}", probs); // P' = P ⊙ M (touched in training only)
    }

    public override bool IsTrainingOnly(string planTensor) => planTensor.StartsWith("attnd", System.StringComparison.Ordinal);

    private static string Dropped(EmitContext ctx, Node node)
        => node.ProbsDropout.Length == 0 ? "null" : $"Training ? {ctx.Layer(node.ProbsDropout)} : null, p.attnd{node.Id}, Seed, Step";

    public override void EmitForward(EmitContext ctx, Node node)
    {
        var dropout = node.ProbsDropout.Length == 0 ? "" : $", {Dropped(ctx, node)}";
        ctx.Writer.Line($"global::ModelGen.Ops.AttentionForward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Value(node.Inputs[2])}, {ctx.Value(node.Inputs[3])}, {node.Layer}, p.attn{node.Id}, {ctx.Value(node.Id)}{dropout});");
    }

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var v = ctx.Contribute(node.Inputs[2]);
        var q = ctx.Contribute(node.Inputs[0]);
        var k = ctx.Contribute(node.Inputs[1]);
        var dropout = node.ProbsDropout.Length == 0 ? "" : $", Training ? {ctx.Layer(node.ProbsDropout)} : null, p.attnd{node.Id}";
        ctx.Writer.Line($"global::ModelGen.Ops.AttentionBackward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Value(node.Inputs[2])}, p.attn{node.Id}, {ctx.Grad(node.Id)}, {node.Layer}, {q.Tensor}, {q.Accumulate}, {k.Tensor}, {k.Accumulate}, {v.Tensor}, {v.Accumulate}{dropout});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i)
        => $"attention({i[0]}, {i[1]}, {i[2]}, mask {i[3]}, {node.Layer} heads{(node.ProbsDropout.Length > 0 ? $", probabilities dropped by {node.ProbsDropout}" : "")})";
}
