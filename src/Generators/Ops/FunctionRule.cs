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
    public string Signature => $"{Name}({string.Join(", ", Enumerable.Repeat("tensor", Tensors).Concat(TakesNumber ? new[] { "number" } : Array.Empty<string>()))})";

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
