using System.Collections.Generic;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>y[i] = W[ids[i]] (ids as a float tensor). Backward: dW[ids[i]] += dy[i] (scatter-add; the padding row gets
/// none). The ids get no gradient.</summary>
public sealed class EmbeddingRule : OpRule
{
    public override OpKind Kind => OpKind.Embedding;

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
/// Multi-head self-attention, scale + additive padding mask + softmax fused: per batch b and head h (d = hidden/heads),
///   P = softmax(Q_h·K_hᵀ/√d + (1 − mask_b)·(−10000)),  ctx_h = P·V_h,
/// reading and writing the heads in place in [batch, seq, hidden]. Backward:
///   dV_h = Pᵀ·dctx_h;  dP = dctx_h·V_hᵀ;  dS = P ⊙ (dP − Σ_j dP⊙P)/√d;  dQ_h = dS·K_h;  dK_h = dSᵀ·Q_h.
/// The mask gets no gradient.
/// </summary>
public sealed class AttentionRule : OpRule
{
    public override OpKind Kind => OpKind.Attention;

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.AttentionShape({s[0]}, {s[1]}, {s[2]}, {s[3]}, {node.Layer})";

    public override IEnumerable<(string Name, string? Shape)> PlanTensors(Node node)
        => new[] { ($"attn{node.Id}", (string?)$"global::ModelGen.Ops.AttentionProbsShape(s{node.Id}, {node.Layer})") };

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.AttentionForward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Value(node.Inputs[2])}, {ctx.Value(node.Inputs[3])}, {node.Layer}, p.attn{node.Id}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var v = ctx.Contribute(node.Inputs[2]);
        var q = ctx.Contribute(node.Inputs[0]);
        var k = ctx.Contribute(node.Inputs[1]);
        ctx.Writer.Line($"global::ModelGen.Ops.AttentionBackward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Value(node.Inputs[2])}, p.attn{node.Id}, {ctx.Grad(node.Id)}, {node.Layer}, {q.Tensor}, {q.Accumulate}, {k.Tensor}, {k.Accumulate}, {v.Tensor}, {v.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"attention({i[0]}, {i[1]}, {i[2]}, mask {i[3]}, {node.Layer} heads)";
}

/// <summary>y[b] = x[b, 0, :] (the [CLS] position). Backward: dx[b, 0, :] += dy[b], zero elsewhere.</summary>
public sealed class FirstTokenRule : OpRule
{
    public override OpKind Kind => OpKind.FirstToken;

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => $"global::ModelGen.Ops.FirstTokenShape({s[0]})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.FirstTokenForward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.FirstTokenBackward<T>({ctx.Grad(node.Id)}, {t.Tensor}, {t.Accumulate});");
    }
}
