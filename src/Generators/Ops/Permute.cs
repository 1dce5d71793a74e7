using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// Permute(x, dims…) and Transpose(x, d0, d1) (a permutation that swaps two dimensions), materialised contiguous.
/// Output dimension i is input dimension p[i], so y[j] = x[P(j)] for a bijection P of the elements: the backward is the
/// inverse permutation, dx[P(j)] += dy[j]. Math: src/Runtime/ModelGen.Runtime/Ops/Permute.cs.
/// </summary>
public abstract class PermutationRule : TensorFunctionRule
{
    /// <summary>The permutation as a function of the rank, or null when it cannot be known at compile time; dims
    /// outside the rank are reported (MG0021).</summary>
    protected abstract int[]? Permutation(ShapeContext ctx, Node node, int rank);

    /// <summary>The statement that builds the permutation once per plan, from the input's shape.</summary>
    protected abstract string PermutationExpression(Node node, string inputShape);

    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
    {
        var u = ctx.Unifier;
        var x = u.Resolve(inputs[0]);
        if (x.Rest is not null) return UnknownRank(ctx, node, x);
        var perm = Permutation(ctx, node, x.Dims.Count);
        return perm is null ? u.NewShape() : SymShape.Of(perm.Select(p => x.Dims[p]).ToArray());
    }

    /// <summary>An input whose leading dimensions are unknown: permutations of its known trailing dimensions only.</summary>
    protected virtual SymShape UnknownRank(ShapeContext ctx, Node node, SymShape x) => ctx.Unifier.NewShape();

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, EmitContext ctx)
        => $"global::ModelGen.Ops.PermuteShape({s[0]}, {PermutationExpression(node, s[0])})";

    public override IEnumerable<string> PlanFields(Node node) => new[] { $"public int[] perm{node.Id} = null!;" };

    public override IEnumerable<string> PlanSetup(Node node, IReadOnlyList<string> inputShapes)
        => new[] { $"p.perm{node.Id} = {PermutationExpression(node, inputShapes[0])};" };

    public override void EmitForward(EmitContext ctx, Node node)
        => ctx.Writer.Line($"global::ModelGen.Ops.Permute<T>({ctx.Value(node.Inputs[0])}, {ctx.Value(node.Id)}, p.perm{node.Id});");

    public override void EmitBackward(EmitContext ctx, Node node)
    {
        var t = ctx.Contribute(node.Inputs[0]);
        ctx.Writer.Line($"{t.Guard}global::ModelGen.Ops.PermuteBackward<T>({ctx.Grad(node.Id)}, {t.Tensor}, p.perm{node.Id}, {t.Accumulate});");
    }

    protected static void OutOfRange(ShapeContext ctx, Node node, string op, int dim, int rank)
        => ctx.Report(ShapeDiagnosticIds.DimRange, node,
            $"{op}: dim {dim} is out of range for {ShapeContext.DescribeArgument(node, 0)}, which has {rank} dimension{(rank == 1 ? "" : "s")} (dims {-rank} to {rank - 1})");
}

/// <summary>Transpose(x, dim0, dim1): swaps two dimensions (torch.transpose).</summary>
public sealed class TransposeRule : PermutationRule
{
    public override string Name => "Transpose";
    public override IReadOnlyList<FunctionArg> Arguments { get; } = new[] { new FunctionArg("x", ArgKind.Tensor), new FunctionArg("dim0", ArgKind.Int), new FunctionArg("dim1", ArgKind.Int) };

    protected override int[]? Permutation(ShapeContext ctx, Node node, int rank)
    {
        int d0 = IntArg(node, "dim0"), d1 = IntArg(node, "dim1");
        var a = Normalize(d0, rank);
        var b = Normalize(d1, rank);
        if (a is null || b is null)
        {
            OutOfRange(ctx, node, "Transpose", a is null ? d0 : d1, rank);
            return null;
        }
        var perm = Enumerable.Range(0, rank).ToArray();
        (perm[a.Value], perm[b.Value]) = (perm[b.Value], perm[a.Value]);
        return perm;
    }

    /// <summary>[…, p, q] with negative dims within the known trailing ones: those swap, the rest stays unknown.</summary>
    protected override SymShape UnknownRank(ShapeContext ctx, Node node, SymShape x)
    {
        int d0 = IntArg(node, "dim0"), d1 = IntArg(node, "dim1"), n = x.Dims.Count;
        if (d0 >= 0 || d1 >= 0 || -d0 > n || -d1 > n) return ctx.Unifier.NewShape();
        var dims = x.Dims.ToArray();
        (dims[n + d0], dims[n + d1]) = (dims[n + d1], dims[n + d0]);
        return new SymShape(x.Rest, dims);
    }

    protected override string PermutationExpression(Node node, string inputShape)
        => $"global::ModelGen.Ops.TransposeDims({inputShape}.Rank, {IntArg(node, "dim0")}, {IntArg(node, "dim1")})";
}

/// <summary>Permute(x, dims…): output dimension i is input dimension dims[i] (torch.permute).</summary>
public sealed class PermuteRule : PermutationRule
{
    public override string Name => "Permute";
    public override IReadOnlyList<FunctionArg> Arguments { get; } = new[] { new FunctionArg("x", ArgKind.Tensor), new FunctionArg("dims", ArgKind.Ints) };

    protected override int[]? Permutation(ShapeContext ctx, Node node, int rank)
    {
        var dims = node.Dims;
        var perm = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (Normalize(dims[i], rank) is not int d)
            {
                OutOfRange(ctx, node, "Permute", dims[i], rank);
                return null;
            }
            perm[i] = d;
        }
        if (dims.Length != rank || perm.Distinct().Count() != rank)
        {
            ctx.Report(ShapeDiagnosticIds.DimRange, node,
                $"Permute({string.Join(", ", dims)}) is not a permutation of the {rank} dimensions of {ShapeContext.DescribeArgument(node, 0)} (each of 0 to {rank - 1} exactly once)");
            return null;
        }
        return perm;
    }

    protected override string PermutationExpression(Node node, string inputShape)
        => $"new int[] {{ {string.Join(", ", node.Dims.Select(d => d.ToString(CultureInfo.InvariantCulture)))} }}";
}
