using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ModelGen.Generators.Graph;

namespace ModelGen.Generators.Ops;

/// <summary>
/// An op that a Forward calls as a function by its name (<c>Softplus(x)</c>) and that registers itself: every concrete
/// subclass in this assembly is found by reflection, so adding one is adding its file. Its node is
/// <see cref="OpKind.Function"/> with <see cref="Node.Function"/> = <see cref="Name"/>. By default it is element-wise
/// with one tensor argument: <see cref="OpRule.Forward"/> and <see cref="OpRule.Backward"/> give its math as
/// expressions over functions that the runtime declares once per form (scalar T, Vector256&lt;T&gt;, Vector512&lt;T&gt;
/// and float for ILGPU) under the same name, in the op's own file (src/Runtime/ModelGen.Runtime/Ops/&lt;Op&gt;.cs).
/// </summary>
public abstract class FunctionRule : OpRule
{
    /// <summary>The function's name in a Forward, as in PyTorch (Softplus, Silu).</summary>
    public abstract string Name { get; }

    public sealed override OpKind Kind => OpKind.Function;

    /// <summary>How many tensor arguments it takes first (1, or 2 for Maximum and Minimum: then broadcast).</summary>
    public virtual int Tensors => 1;

    /// <summary>Whether a number follows the tensors (LeakyRelu's slope, Pow's exponent); the node's
    /// <see cref="Node.Scalar"/> holds it.</summary>
    public virtual bool TakesNumber => false;

    /// <summary>How a call reads in messages: <c>Pow(tensor, number)</c>.</summary>
    public virtual string Signature => $"{Name}({string.Join(", ", Enumerable.Repeat("tensor", Tensors).Concat(TakesNumber ? new[] { "number" } : Array.Empty<string>()))})";

    public override SymShape InferShape(ShapeContext ctx, Node node, IReadOnlyList<SymShape> inputs)
        => Tensors == 2 ? Broadcasting.Shape(ctx, node, inputs, Name) : base.InferShape(ctx, node, inputs);

    public override string RuntimeShape(Node node, IReadOnlyList<string> s, Emit.EmitContext ctx)
        => Tensors == 2 ? Broadcasting.RuntimeShape(s, Name) : base.RuntimeShape(node, s, ctx);

    public override bool IsElementwise => true;

    public override string Describe(Node node, IReadOnlyList<string> inputs) => $"{Name.ToLowerInvariant()}({string.Join(", ", inputs)})";

    private static readonly Lazy<Dictionary<string, FunctionRule>> Registry = new(() =>
        typeof(FunctionRule).Assembly.GetTypes()
            .Where(t => typeof(FunctionRule).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (FunctionRule)Activator.CreateInstance(t)!)
            .ToDictionary(r => r.Name, StringComparer.Ordinal));

    /// <summary>Every registered function, by name.</summary>
    public static IReadOnlyDictionary<string, FunctionRule> All => Registry.Value;

    public static FunctionRule? Find(string name) => Registry.Value.TryGetValue(name, out var rule) ? rule : null;
}

/// <summary>What a <see cref="TensorFunctionRule"/>'s argument is: a tensor, an integer literal (a dimension), a
/// bool literal, a number, or the rest of the integer literals (Permute's dims).</summary>
public enum ArgKind
{
    Tensor,
    Int,
    Bool,
    Number,
    Ints,
}

/// <summary>One argument of a <see cref="TensorFunctionRule"/>, named as in the C# declaration the user calls.</summary>
public sealed record FunctionArg(string Name, ArgKind Kind, double? Default = null);

/// <summary>
/// A function op that is not element-wise (MatMul, Transpose, reductions over a dimension, Softmax over a dimension):
/// its arguments are declared (<see cref="Arguments"/>) and bound by position or by name; the integer and bool
/// literals go to <see cref="Node.Dims"/> in declaration order (a bool as 0/1, Ints as all of them), a number to
/// <see cref="Node.Scalar"/>. Its forward and backward call runtime routines (<see cref="OpRule.EmitForward"/>,
/// <see cref="OpRule.EmitBackward"/>).
/// </summary>
public abstract class TensorFunctionRule : FunctionRule
{
    public abstract IReadOnlyList<FunctionArg> Arguments { get; }

    public override bool IsElementwise => false;
    public sealed override int Tensors => Arguments.Count(a => a.Kind == ArgKind.Tensor);
    public sealed override bool TakesNumber => Arguments.Any(a => a.Kind == ArgKind.Number);

    public override string Signature => $"{Name}({string.Join(", ", Arguments.Select(a => a.Kind switch
    {
        ArgKind.Tensor => a.Name,
        ArgKind.Ints => $"params int[] {a.Name}",
        ArgKind.Bool => $"bool {a.Name}{(a.Default is double d ? (d != 0 ? " = true" : " = false") : "")}",
        ArgKind.Int => $"int {a.Name}{(a.Default is double i ? " = " + i : "")}",
        _ => $"double {a.Name}{(a.Default is double n ? " = " + n : "")}",
    }))})";

    /// <summary>A dimension counted from the end when negative, for a known rank; null when out of range.</summary>
    public static int? Normalize(int dim, int rank) => dim >= -rank && dim < rank ? (dim < 0 ? dim + rank : dim) : null;

    /// <summary>The argument's position in <see cref="Node.Dims"/>.</summary>
    protected int DimIndex(string name)
    {
        int index = 0;
        foreach (var a in Arguments)
        {
            if (a.Name == name) return index;
            if (a.Kind is ArgKind.Int or ArgKind.Bool) index++;
        }
        throw new System.InvalidOperationException($"{Name} has no integer argument {name}");
    }

    protected int IntArg(Node node, string name) => node.Dims[DimIndex(name)];
    protected bool BoolArg(Node node, string name) => node.Dims[DimIndex(name)] != 0;

    protected static string Bool(bool value) => value ? "true" : "false";

    public override string Describe(Node node, IReadOnlyList<string> inputs)
        => $"{Name}({string.Join(", ", inputs.Concat(node.Dims.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))))})";
}

