using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>y = a + b, broadcast (residual connections, biases, masks). da += dy, db += dy, each summed over the
/// positions where its operand was broadcast (see <see cref="Broadcasting"/>).</summary>
public sealed class AddRule : OpRule
{
    public override OpKind Kind => OpKind.Add;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => Broadcasting.Shape(ctx, node, inputs, "+");
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} + {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, g), (1, g) };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => Broadcasting.RuntimeShape(s, "+");
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} + {i[1]}";
}

/// <summary>y = a − b, broadcast. da += dy, db −= dy (each summed back to its shape).</summary>
public sealed class SubRule : OpRule
{
    public override OpKind Kind => OpKind.Sub;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => Broadcasting.Shape(ctx, node, inputs, "-");
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} - {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, g), (1, $"-{g}") };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => Broadcasting.RuntimeShape(s, "-");
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} - {i[1]}";
}

/// <summary>y = −x. dx = −dy.</summary>
public sealed class NegRule : OpRule
{
    public override OpKind Kind => OpKind.Neg;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"-{a[0]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"-{g}") };
}

/// <summary>y = x·s for a constant s (also x / c as s = 1/c). dx = dy·s.</summary>
public sealed class MulScalarRule : OpRule
{
    public override OpKind Kind => OpKind.MulScalar;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} * VMath.C<T>({Num(node.Scalar)})";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"{g} * VMath.C<T>({Num(node.Scalar)})") };
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} * {Num(node.Scalar)}";
}

/// <summary>y = a ⊙ b, broadcast (a gate, a mask, a layer scale). da = dy ⊙ b, db = dy ⊙ a (each summed back to its shape).</summary>
public sealed class MulRule : OpRule
{
    public override OpKind Kind => OpKind.Mul;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => Broadcasting.Shape(ctx, node, inputs, "*");
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} * {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"{g} * {a[1]}"), (1, $"{g} * {a[0]}") };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => Broadcasting.RuntimeShape(s, "*");
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} * {i[1]}";
}

/// <summary>
/// y = a / b, broadcast. da = dy / b; db = −dy·a / b² (from ∂(a·b⁻¹)/∂b = −a·b⁻²), written with the inputs
/// rather than y so that the fused backward recomputes nothing it does not already hold.
/// </summary>
public sealed class DivRule : OpRule
{
    public override OpKind Kind => OpKind.Div;
    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs) => Broadcasting.Shape(ctx, node, inputs, "/");
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"{a[0]} / {a[1]}";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"{g} / {a[1]}"), (1, $"-({g} * {a[0]} / ({a[1]} * {a[1]}))") };
    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx) => Broadcasting.RuntimeShape(s, "/");
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} / {i[1]}";
}

/// <summary>y = x + c for a constant c. dx = dy. Math: src/Runtime/ModelGen.Runtime/Ops/Arithmetic.cs.</summary>
public sealed class AddScalarRule : OpRule
{
    public override OpKind Kind => OpKind.AddScalar;
    public override bool IsElementwise => true;
    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Shift({a[0]}, VMath.C<T>({Num(node.Scalar)}))";
    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, g) };
    public override string Describe(Node node, IReadOnlyList<string> i) => $"{i[0]} + {Num(node.Scalar)}";
}

/// <summary>
/// NumPy broadcasting, the shape rule of every element-wise op with two tensors (+, −, ⊙, /, Maximum, Minimum).
/// Shapes align at their last dimension; a missing leading dimension counts as 1; two dimensions agree when they are
/// equal or one is 1, and the result takes the other. A constant against a symbol or an unknown gives the constant (the
/// other must be 1 or equal, which the run-time guard checks); nothing is bound by it, since an unknown may be 1.
/// <para>Backward: y[i] = f(a[ia(i)], b[ib(i)]) where ia maps an output index to the operand's (0 along broadcast
/// dimensions), so ∂L/∂a[j] = Σ_{i : ia(i) = j} ∂L/∂y[i] · ∂f/∂a — the per-element rule, summed over the copies of a[j].
/// The fused kernel writes the per-element term for each output element and Ops.SumToShape sums it back to a's shape.</para>
/// </summary>
public static class Broadcasting
{
    public static string RuntimeShape(IReadOnlyList<string> s, string op) => $"global::ModelGen.Ops.BroadcastShape({s[0]}, {s[1]}, \"{op}\")";

    public static SymShape Shape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs, string op)
    {
        var u = ctx.Unifier;
        var a = u.Resolve(inputs[0]);
        var b = u.Resolve(inputs[1]);
        if (Combine(u, a, b) is { } shape) return shape;
        var (dim, da, db) = Conflict(u, a, b);
        ctx.Report(ShapeDiagnosticIds.ElementwiseShapes, node,
            $"'{op}' cannot broadcast {ShapeContext.DescribeArgument(node, 0)} of shape {u.Format(a)} with {ShapeContext.DescribeArgument(node, 1)} of shape {u.Format(b)}: dimension {dim} is {da} against {db} (broadcast dimensions must be equal or 1)");
        return u.NewShape();
    }

    /// <summary>The broadcast of three or more operands (Where's condition and branches), reporting the first pair that
    /// certainly does not broadcast.</summary>
    public static SymShape ShapeOfAll(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs, string op)
    {
        var u = ctx.Unifier;
        var shape = u.Resolve(inputs[0]);
        for (int i = 1; i < inputs.Count; i++)
        {
            var next = u.Resolve(inputs[i]);
            if (Combine(u, shape, next) is { } combined)
            {
                shape = combined;
                continue;
            }
            var (dim, da, db) = Conflict(u, shape, next);
            var left = i == 1 ? $"{ShapeContext.DescribeArgument(node, 0)} of shape {u.Format(shape)}" : $"the broadcast of its first {i} operands, of shape {u.Format(shape)},";
            ctx.Report(ShapeDiagnosticIds.ElementwiseShapes, node,
                $"'{op}' cannot broadcast {left} with {ShapeContext.DescribeArgument(node, i)} of shape {u.Format(next)}: dimension {dim} is {da} against {db} (broadcast dimensions must be equal or 1)");
            return u.NewShape();
        }
        return shape;
    }

    /// <summary>The first dimension (from the end) where two shapes certainly do not broadcast.</summary>
    public static (int Dim, long A, long B) Conflict(ShapeUnifier u, SymShape a, SymShape b)
    {
        for (int i = 1; i <= System.Math.Min(a.Dims.Count, b.Dims.Count); i++)
        {
            var da = u.Resolve(a.Dims[a.Dims.Count - i]);
            var db = u.Resolve(b.Dims[b.Dims.Count - i]);
            if (da.Kind == DimKind.Const && db.Kind == DimKind.Const && da.Value != db.Value && da.Value != 1 && db.Value != 1) return (-i, da.Value, db.Value);
        }
        return (0, 0, 0);
    }

    /// <summary>The broadcast of two resolved shapes, or null when they certainly do not broadcast.</summary>
    public static SymShape? Combine(ShapeUnifier u, SymShape a, SymShape b)
    {
        int n = System.Math.Min(a.Dims.Count, b.Dims.Count);
        var trailing = new Dim[n];
        for (int i = 1; i <= n; i++)
        {
            var da = u.Resolve(a.Dims[a.Dims.Count - i]);
            var db = u.Resolve(b.Dims[b.Dims.Count - i]);
            if (da.Kind == DimKind.Const && db.Kind == DimKind.Const && da.Value != db.Value && da.Value != 1 && db.Value != 1) return null;
            trailing[n - i] = Dimension(u, da, db);
        }
        var (longer, shorter) = a.Dims.Count >= b.Dims.Count ? (a, b) : (b, a);
        var lead = longer.Dims.Take(longer.Dims.Count - n);
        if (shorter.Rest is null) return new SymShape(longer.Rest, lead.Concat(trailing).ToArray());
        if (longer.Rest == shorter.Rest && longer.Dims.Count == shorter.Dims.Count) return new SymShape(longer.Rest, trailing);
        // the shorter operand's unknown leading dimensions may broadcast against anything before the trailing ones
        return new SymShape(u.NewShape().Rest, trailing);
    }

    private static Dim Dimension(ShapeUnifier u, Dim a, Dim b)
    {
        if (a.Kind == DimKind.Const && a.Value == 1) return b;
        if (b.Kind == DimKind.Const && b.Value == 1) return a;
        if (u.Same(a, b) || a.Kind == DimKind.Const) return a;
        if (b.Kind == DimKind.Const) return b;
        return u.NewDim();
    }
}
