using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// y = Where(cond, a, b): a where cond is true, b elsewhere (<c>torch.where</c>), the three broadcast together; cond
/// is a Bool tensor (a comparison, or a Bool Forward input).
/// <para>Backward: y = c·a + (1 − c)·b with c ∈ {0, 1} fixed, so da = dy where c, 0 elsewhere, and db = dy where not
/// c, 0 elsewhere (each summed back over its broadcast copies). The condition gets no gradient: y is piecewise
/// constant in it. As in PyTorch, an op before the branch not taken still sees a zero gradient (a NaN derivative there,
/// such as Sqrt's at a negative input, still gives NaN: mask the input, not only the output).</para>
/// Math: src/Runtime/ModelGen.Runtime/Ops/Where.cs.
/// </summary>
public sealed class WhereRule : FunctionRule
{
    public override string Name => "Where";
    public override int Tensors => 3;
    public override string Signature => "Where(condition, a, b)";

    public override Need InputNeed(Node node, int index) => index == 0 ? Need.Bool : Need.Numeric;

    public override ElementKind OutputType(Node node, IReadOnlyList<ElementKind> inputs)
        => inputs[1] == ElementKind.Bool && inputs[2] == ElementKind.Bool ? ElementKind.Bool : ElementKind.Float;

    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
        => Broadcasting.ShapeOfAll(ctx, node, inputs, Name);

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.BroadcastShape(global::ModelGen.Ops.BroadcastShape({s[0]}, {s[1]}, \"Where\"), {s[2]}, \"Where\")";

    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.Where({a[0]}, {a[1]}, {a[2]})";

    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (1, $"global::ModelGen.Ops.WhereGrad({a[0]}, {g})"), (2, $"global::ModelGen.Ops.WhereNotGrad({a[0]}, {g})") };

    public override string Describe(Node node, IReadOnlyList<string> inputs) => $"where({string.Join(", ", inputs)})";
}

/// <summary>
/// y = MaskedFill(x, mask, value): value where mask is true, x elsewhere (<c>Tensor.masked_fill</c>), mask broadcast to
/// x's shape (a padding mask [B, 1, T] over scores [B, T, T]); value a number (<c>double.NegativeInfinity</c>, -1e9).
/// <para>Backward: dx = dy where not mask, 0 where the value was written; the mask gets no gradient.</para>
/// Math: src/Runtime/ModelGen.Runtime/Ops/Where.cs.
/// </summary>
public sealed class MaskedFillRule : FunctionRule
{
    public override string Name => "MaskedFill";
    public override int Tensors => 2;
    public override bool TakesNumber => true;
    public override string Signature => "MaskedFill(x, mask, number)";

    public override Need InputNeed(Node node, int index) => index == 1 ? Need.Bool : Need.Numeric;

    public override string Forward(IReadOnlyList<string> a, Node node) => $"global::ModelGen.Ops.MaskedFill({a[0]}, {a[1]}, VMath.C<T>({Literal(node.Scalar)}))";

    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node)
        => new[] { (0, $"global::ModelGen.Ops.WhereNotGrad({a[1]}, {g})") };

    /// <summary>A number as C#: infinities by name.</summary>
    private static string Literal(double value)
        => double.IsNegativeInfinity(value) ? "double.NegativeInfinity" : double.IsPositiveInfinity(value) ? "double.PositiveInfinity" : double.IsNaN(value) ? "double.NaN" : Num(value);

    public override string Describe(Node node, IReadOnlyList<string> inputs) => $"maskedfill({inputs[0]}, {inputs[1]}, {Literal(node.Scalar)})";
}
