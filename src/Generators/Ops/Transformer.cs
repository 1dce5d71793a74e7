using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>y[i] = W[ids[i]] (ids as a float tensor). Backward: dW[ids[i]] += dy[i] (scatter-add; the padding row gets
/// none). The ids get no gradient.</summary>
public sealed class EmbeddingRule : OpRule
{
    public override OpKind Kind => OpKind.Embedding;

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

/// <summary>
/// y = (x − mean)·rstd·w + b over the last dimension; keeps (mean, rstd) per row.
/// Backward (llm.c): with x̂ = (x − mean)·rstd and g = w ⊙ dy,
///   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),   dw += Σ_rows dy ⊙ x̂,   db += Σ_rows dy.
/// </summary>
public sealed class LayerNormRule : OpRule
{
    public override OpKind Kind => OpKind.LayerNorm;

    /// <summary>x [..., dim] → the same shape; the last dimension must be the layer's dim (MG0002).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var layer = ctx.Layer(node.Layer);
        if (layer is null) return ctx.Unifier.NewShape();
        var dim = ctx.LayerDim(layer, LayerArgs.Find(layer, 0, "dim"), "dim");
        var x = inputs[0];
        var last = ctx.Unifier.LastDim(x);
        if (last is null || ctx.Unifier.Unify(last, dim) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.LayerNormInput, node,
                $"LayerNorm layer '{layer.Name}' normalises […, {ctx.Unifier.Format(dim)}] but {ShapeContext.DescribeArgument(node, 0)} has shape {ctx.Format(x)}", layer.Name);
            return ctx.Unifier.NewShape();
        }
        return x;
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.LayerNormShape({s[0]}, {ctx.Layer(node.Layer)})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => new[] { ($"ln{node.Id}", (string?)$"new global::ModelGen.Shape(s{node.Id}.Rows, 2)") };

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.LayerNormForward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, p.ln{node.Id});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"global::ModelGen.Ops.LayerNormBackward<T>({ctx.Layer(node.Layer)}, {ctx.Value(node.Inputs[0])}, {ctx.Grad(node.Id)}, p.ln{node.Id}, {t.Tensor}, {t.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"{node.Layer}({i[0]})";
}

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

/// <summary>y[b] = x[b, 0, :] (the [CLS] position). Backward: dx[b, 0, :] += dy[b], zero elsewhere.</summary>
public sealed class FirstTokenRule : OpRule
{
    public override OpKind Kind => OpKind.FirstToken;

    /// <summary>[batch, seq, hidden] → [batch, hidden]; another rank is MG0018.</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var u = ctx.Unifier;
        var x = SymShape.Of(u.NewDim(), u.NewDim(), u.NewDim());
        string before = ctx.Format(inputs[0]);
        if (u.Unify(inputs[0], x) == Unification.Conflict)
        {
            ctx.Report(ShapeDiagnosticIds.Rank, node, $"FirstToken needs [batch, seq, hidden] but {ShapeContext.DescribeArgument(node, 0)} has shape {before}");
            return u.NewShape();
        }
        return SymShape.Of(x.Dims[0], x.Dims[2]);
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => $"global::ModelGen.Ops.FirstTokenShape({s[0]})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.FirstTokenForward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.FirstTokenBackward<T>({ctx.Grad(node.Id)}, {t.Tensor}, {t.Accumulate});");
    }
}

/// <summary>Finds a layer's constructor argument by position or name.</summary>
internal static class LayerArgs
{
    public static ArgSpec? Find(LayerSpec layer, int position, params string[] names)
        => layer.Args.FirstOrDefault(a => a.Name is not null && names.Contains(a.Name))
           ?? (layer.Args.Count > position && layer.Args[position].Name is null ? layer.Args[position] : null);
}
