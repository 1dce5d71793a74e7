using System.Collections.Generic;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// Comparisons, element-wise with broadcasting: <c>a &gt; b</c>, <c>a &lt; b</c>, <c>a &gt;= b</c>, <c>a &lt;= b</c>,
/// <c>Eq(a, b)</c>, <c>Ne(a, b)</c>, each also against a number (<c>x &gt; 0</c>). The value is Bool (held as 0/1 in
/// the model's dtype, so that a mask can also be used as numbers, as PyTorch promotes it). A comparison is piecewise
/// constant: it passes no gradient to either side (PyTorch's comparisons are not differentiable either).
/// Math: src/Runtime/ModelGen.Runtime/Ops/Comparisons.cs.
/// </summary>
public abstract class ComparisonRule : FunctionRule
{
    /// <summary>The runtime function (Ops.Gt, Ops.Eq, …).</summary>
    protected abstract string Op { get; }

    public abstract string Operator { get; }

    public override ElementKind OutputType(Node node, IReadOnlyList<ElementKind> inputs) => ElementKind.Bool;

    public override string Forward(IReadOnlyList<string> a, Node node)
        => TakesNumber ? $"global::ModelGen.Ops.{Op}({a[0]}, VMath.C<T>({Num(node.Scalar)}))" : $"global::ModelGen.Ops.{Op}({a[0]}, {a[1]})";

    public override IEnumerable<(int, string)> Backward(string g, IReadOnlyList<string> a, string y, Node node) => System.Array.Empty<(int, string)>();

    public override string Describe(Node node, IReadOnlyList<string> inputs)
        => TakesNumber ? $"({inputs[0]} {Operator} {Num(node.Scalar)})" : $"({inputs[0]} {Operator} {inputs[1]})";
}

/// <summary>Two tensors, broadcast.</summary>
public abstract class TensorComparisonRule : ComparisonRule
{
    public override int Tensors => 2;
}

/// <summary>A tensor against a number.</summary>
public abstract class ScalarComparisonRule : ComparisonRule
{
    public override bool TakesNumber => true;
}

public sealed class GtRule : TensorComparisonRule { public override string Name => "Gt"; protected override string Op => "Gt"; public override string Operator => ">"; }
public sealed class LtRule : TensorComparisonRule { public override string Name => "Lt"; protected override string Op => "Lt"; public override string Operator => "<"; }
public sealed class GeRule : TensorComparisonRule { public override string Name => "Ge"; protected override string Op => "Ge"; public override string Operator => ">="; }
public sealed class LeRule : TensorComparisonRule { public override string Name => "Le"; protected override string Op => "Le"; public override string Operator => "<="; }
public sealed class EqRule : TensorComparisonRule { public override string Name => "Eq"; protected override string Op => "Eq"; public override string Operator => "=="; }
public sealed class NeRule : TensorComparisonRule { public override string Name => "Ne"; protected override string Op => "Ne"; public override string Operator => "!="; }
public sealed class GtScalarRule : ScalarComparisonRule { public override string Name => "GtScalar"; protected override string Op => "Gt"; public override string Operator => ">"; }
public sealed class LtScalarRule : ScalarComparisonRule { public override string Name => "LtScalar"; protected override string Op => "Lt"; public override string Operator => "<"; }
public sealed class GeScalarRule : ScalarComparisonRule { public override string Name => "GeScalar"; protected override string Op => "Ge"; public override string Operator => ">="; }
public sealed class LeScalarRule : ScalarComparisonRule { public override string Name => "LeScalar"; protected override string Op => "Le"; public override string Operator => "<="; }
public sealed class EqScalarRule : ScalarComparisonRule { public override string Name => "EqScalar"; protected override string Op => "Eq"; public override string Operator => "=="; }
public sealed class NeScalarRule : ScalarComparisonRule { public override string Name => "NeScalar"; protected override string Op => "Ne"; public override string Operator => "!="; }
