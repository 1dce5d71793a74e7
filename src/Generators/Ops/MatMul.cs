using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = MatMul(a, b) with torch.matmul's rules: a 1-D operand is a vector (a row for a, a column for b, removed from
/// the result), 2-D operands multiply as matrices, and the batch dimensions of higher-rank operands broadcast (NumPy's
/// rule, see <see cref="Broadcasting"/>). Math: src/Runtime/ModelGen.Runtime/Ops/MatMul.cs.
/// <para>Backward, per batch element with A [n, k], B [k, m], dY [n, m]: dA = dY·Bᵀ and dB = Aᵀ·dY (from
/// y_ij = Σ_l a_il b_lj: ∂y_ij/∂a_il = b_lj, ∂y_ij/∂b_lj = a_il). An operand broadcast over batch dimensions was used by
/// every batch element that shares it, so its gradient is the sum of those elements' dA (or dB) — the reduction of a
/// broadcast gradient, as for element-wise ops. A vector operand's gradient is the promoted matrix's with the added
/// dimension removed.</para>
/// </summary>
public sealed class MatMulRule : TensorFunctionRule
{
    public override string Name => "MatMul";
    public override IReadOnlyList<FunctionArg> Arguments { get; } = new[] { new FunctionArg("a", ArgKind.Tensor), new FunctionArg("b", ArgKind.Tensor) };

    /// <summary>a's last dimension must equal b's first matrix dimension (MG0004); batch dimensions must broadcast (MG0005).</summary>
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var u = ctx.Unifier;
        var a = u.Resolve(inputs[0]);
        var b = u.Resolve(inputs[1]);
        string Describe(int i) => $"{ShapeContext.DescribeArgument(node, i)} of shape {u.Format(i == 0 ? a : b)}";
        if ((a.Rest is null && a.Dims.Count == 0) || (b.Rest is null && b.Dims.Count == 0))
        {
            ctx.Report(ShapeDiagnosticIds.MatMulInner, node, $"MatMul needs tensors with at least one dimension but {Describe(a.Rest is null && a.Dims.Count == 0 ? 0 : 1)} is a scalar");
            return u.NewShape();
        }
        bool aVector = a.Rest is null && a.Dims.Count == 1, bVector = b.Rest is null && b.Dims.Count == 1;
        Dim? inner = a.Dims.Count >= 1 ? a.Dims[a.Dims.Count - 1] : null;
        Dim? bInner = bVector ? b.Dims[0] : b.Dims.Count >= 2 ? b.Dims[b.Dims.Count - 2] : null;
        if (inner is not null && bInner is not null)
        {
            string ai = u.Format(inner), bi = u.Format(bInner);
            string before = $"{Describe(0)} and {Describe(1)}";
            if (u.Unify(inner, bInner) == Unification.Conflict)
            {
                ctx.Report(ShapeDiagnosticIds.MatMulInner, node, $"MatMul of {before}: the inner dimensions {ai} and {bi} differ (a's last must equal b's {(bVector ? "only" : "second-to-last")})");
                return u.NewShape();
            }
        }
        if (aVector && bVector) return SymShape.Scalar;
        if (aVector) return b.Dims.Count >= 2 ? new SymShape(b.Rest, b.Dims.Take(b.Dims.Count - 2).Concat(new[] { b.Dims[b.Dims.Count - 1] }).ToArray()) : u.NewShape();
        if (bVector) return new SymShape(a.Rest, a.Dims.Take(a.Dims.Count - 1).ToArray());
        if (a.Dims.Count < 2 || b.Dims.Count < 2)
            return b.Dims.Count >= 1 ? new SymShape(u.NewShape().Rest, new[] { b.Dims[b.Dims.Count - 1] }) : u.NewShape();
        var aBatch = new SymShape(a.Rest, a.Dims.Take(a.Dims.Count - 2).ToArray());
        var bBatch = new SymShape(b.Rest, b.Dims.Take(b.Dims.Count - 2).ToArray());
        var batch = Broadcasting.Combine(u, aBatch, bBatch);
        if (batch is null)
        {
            var (dim, da, db) = Broadcasting.Conflict(u, aBatch, bBatch);
            ctx.Report(ShapeDiagnosticIds.MatMulBatch, node, $"MatMul of {Describe(0)} and {Describe(1)}: the batch dimensions {u.Format(aBatch)} and {u.Format(bBatch)} do not broadcast (batch dimension {dim} is {da} against {db})");
            return u.NewShape();
        }
        return new SymShape(batch.Rest, batch.Dims.Concat(new[] { a.Dims[a.Dims.Count - 2], b.Dims[b.Dims.Count - 1] }).ToArray());
    }

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => $"global::ModelGen.Ops.MatMulShape({s[0]}, {s[1]})";

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.MatMul<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Value(node.Id)});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var a = ctx.Contribute(node.Inputs[0]);
        var b = ctx.Contribute(node.Inputs[1]);
        ctx.Writer.Line($"// dA = dY·Bᵀ, dB = Aᵀ·dY per batch element, each summed over the batch dimensions its operand was broadcast along");
        ctx.Writer.Line($"global::ModelGen.Ops.MatMulBackward<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Inputs[1])}, {ctx.Grad(node.Id)}, {a.Tensor}, {a.Accumulate}, {b.Tensor}, {b.Accumulate});");
    }

    public override string Describe(Node node, IReadOnlyList<string> i) => $"MatMul({i[0]}, {i[1]})";
}
