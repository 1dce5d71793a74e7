using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generators.Model;
using ModelGen.Generators.Ops;

namespace ModelGen.Generators.Graph;

/// <summary>The diagnostic IDs the shape rules raise (the analyzers own the descriptors; the rules only name them).</summary>
public static class ShapeDiagnosticIds
{
    public const string LinearInput = "MG0001";
    public const string LayerNormInput = "MG0002";
    public const string EmbeddingOutput = "MG0003";     // reserved: an embedding's output is checked by its consumer's rule
    public const string MatMulInner = "MG0004";
    public const string MatMulBatch = "MG0005";         // attention's query/key/value/mask; MatMul's batch dimensions
    public const string ElementwiseShapes = "MG0006";
    public const string ReshapeCount = "MG0007";
    public const string HeadsDivide = "MG0008";
    public const string CrossEntropyTarget = "MG0009";  // planned: in-graph CrossEntropy
    public const string MseTarget = "MG0010";
    public const string BlockListShape = "MG0017";
    public const string Rank = "MG0018";
    public const string ChannelMismatch = "MG0019";    // Conv2d in_channels, BatchNorm2d num_features, groups
    public const string WindowSize = "MG0020";         // a convolution kernel or pooling window larger than the padded input
    public const string DimRange = "MG0021";           // a dim outside the rank, or a Permute that is not a permutation
    public const string DType = "MG0030";              // integer indices used as numbers, a Float mask, numbers used as ids
}

/// <summary>A shape contradiction found by an op's shape rule.</summary>
public sealed class ShapeIssue
{
    public ShapeIssue(string id, Node node, string message, IReadOnlyList<string> layers)
    {
        Id = id;
        Node = node;
        Message = message;
        Layers = layers;
    }

    public string Id { get; }
    /// <summary>The node (of the analysed model's graph) where the mismatched value enters.</summary>
    public Node Node { get; }
    public string Message { get; }
    /// <summary>The [Layer]s of the analysed model involved (their declarations are additional locations).</summary>
    public IReadOnlyList<string> Layers { get; }
}

/// <summary>A nested [Model] (a layer, or the element type of a LayerList) as the shape checker sees it.</summary>
public sealed class NestedModel
{
    public NestedModel(ModelSpec spec, ModelGraph graph, IReadOnlyDictionary<string, ArgSpec> bindings,
        Func<LayerSpec, NestedModel?> resolve, bool hasOwnErrors, IReadOnlyDictionary<string, double>? constants = null)
    {
        Constants = constants ?? new Dictionary<string, double>();
        Spec = spec;
        Graph = graph;
        Bindings = bindings;
        Resolve = resolve;
        HasOwnErrors = hasOwnErrors;
    }

    public ModelSpec Spec { get; }
    public ModelGraph Graph { get; }
    /// <summary>The nested model's constructor parameters → the caller's arguments (in the caller's scope).</summary>
    public IReadOnlyDictionary<string, ArgSpec> Bindings { get; }
    /// <summary>Resolves the nested model's own nested models.</summary>
    public Func<LayerSpec, NestedModel?> Resolve { get; }
    /// <summary>Whether the nested model has errors of its own (then it is reported there, not inlined here).</summary>
    public bool HasOwnErrors { get; }
    /// <summary>The nested model's readonly fields with constant values.</summary>
    public IReadOnlyDictionary<string, double> Constants { get; }
}

public sealed class ShapeCheckResult
{
    public ShapeCheckResult(List<ShapeIssue> issues, Dictionary<int, string> shapes)
    {
        Issues = issues;
        Shapes = shapes;
    }

    public List<ShapeIssue> Issues { get; }
    /// <summary>Every node's inferred shape, formatted (for tests and tooling).</summary>
    public Dictionary<int, string> Shapes { get; }
}

/// <summary>
/// Propagates compile-time shapes through a model's graph with each op's shape rule (<see cref="OpRule.InferShape"/>),
/// into nested models and block lists (inlined with the caller's shapes and constructor arguments), unifying as it goes.
/// The analyzers run it and report its issues; it never throws on incomplete graphs.
/// </summary>
public static class ShapeChecker
{
    public const int MaxNesting = 8;

    public static ShapeCheckResult Check(ModelSpec spec, ModelGraph graph, Func<LayerSpec, NestedModel?> resolve,
        IReadOnlyDictionary<string, double>? constants = null)
    {
        var unifier = new ShapeUnifier();
        var issues = new List<ShapeIssue>();
        var scope = new ShapeScope(spec, ShapeScope.ConstantBindings(constants), resolve);
        var ctx = new ShapeContext(unifier, scope, issues, depth: 0);
        var shapes = ctx.Run(graph, null);
        foreach (var issue in DTypes.Analyze(graph).Issues)
            issues.Add(new ShapeIssue(ShapeDiagnosticIds.DType, issue.Node, issue.Message, System.Array.Empty<string>()));
        var formatted = new Dictionary<int, string>();
        foreach (var kv in shapes) formatted[kv.Key] = unifier.Format(kv.Value);
        return new ShapeCheckResult(issues, formatted);
    }
}

/// <summary>The layers and symbol bindings of one model being checked (the top model, or a nested one inlined).</summary>
public sealed class ShapeScope
{
    public ShapeScope(ModelSpec spec, Dictionary<string, Dim> bindings, Func<LayerSpec, NestedModel?> resolve)
    {
        Spec = spec;
        Bindings = bindings;
        Resolve = resolve;
        foreach (var l in spec.Layers) Layers[l.Name] = l;
    }

    public ModelSpec Spec { get; }
    public Dictionary<string, LayerSpec> Layers { get; } = new();
    public Dictionary<string, Dim> Bindings { get; }
    public Func<LayerSpec, NestedModel?> Resolve { get; }
    public Dictionary<string, Dim> LayerDims { get; } = new();

    public static Dictionary<string, Dim> ConstantBindings(IReadOnlyDictionary<string, double>? constants)
    {
        var bindings = new Dictionary<string, Dim>();
        if (constants is not null)
            foreach (var kv in constants) bindings[kv.Key] = Dim.Const((long)kv.Value);
        return bindings;
    }
}

/// <summary>What an op's shape rule sees: the unifier, the current model's layers and a way to report.</summary>
public sealed class ShapeContext
{
    private readonly List<ShapeIssue> _issues;
    private readonly int _depth;
    private Dictionary<int, SymShape> _shapes = new();
    private ModelGraph? _graph;

    public ShapeContext(ShapeUnifier unifier, ShapeScope scope, List<ShapeIssue> issues, int depth)
    {
        Unifier = unifier;
        Scope = scope;
        _issues = issues;
        _depth = depth;
    }

    public ShapeUnifier Unifier { get; }
    public ShapeScope Scope { get; }

    public LayerSpec? Layer(string name) => Scope.Layers.TryGetValue(name, out var l) ? l : null;

    public void Report(string id, Node node, string message, params string[] layers)
        => _issues.Add(new ShapeIssue(id, node, message, layers));

    public string Format(SymShape s) => Unifier.Format(s);

    /// <summary>The node that makes a node's <paramref name="index"/>-th input, in the graph being checked.</summary>
    public Node? InputNode(Node node, int index) => _graph is not null && index < node.Inputs.Count ? _graph[node.Inputs[index]] : null;

    /// <summary>The shape inferred so far for a node of the graph being checked (rules whose message explains where a
    /// value comes from: Flatten's C·H·W).</summary>
    public SymShape? ShapeOf(int id) => _shapes.TryGetValue(id, out var s) ? Unifier.Resolve(s) : null;

    /// <summary>Runs every node's rule; the inputs get <paramref name="inputs"/> (a nested model), their declared
    /// [Shape(...)] with the batch in front, or unknown shapes.</summary>
    public Dictionary<int, SymShape> Run(ModelGraph graph, IReadOnlyList<SymShape>? inputs)
    {
        _shapes = new Dictionary<int, SymShape>();
        _graph = graph;
        foreach (var node in graph.Nodes)
        {
            SymShape shape;
            if (node.Kind == OpKind.Input)
                shape = inputs is not null && node.InputIndex < inputs.Count ? inputs[node.InputIndex]
                    : node.Dims.Length > 0 ? SymShape.Of(new[] { Unifier.NewDim() }.Concat(node.Dims.Select(d => Dim.Const(d))).ToArray())
                    : Unifier.NewShape();
            else
            {
                var ins = node.Inputs.Select(i => _shapes.TryGetValue(i, out var s) ? s : Unifier.NewShape()).ToList();
                try
                {
                    shape = OpRule.For(node).InferShape(this, node, ins);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    shape = Unifier.NewShape(); // a rule must never take the IDE down; an unknown shape checks nothing
                }
            }
            _shapes[node.Id] = shape;
        }
        return _shapes;
    }

    /// <summary>The dimension a layer constructor argument stands for, in the current scope (cached per layer, so a
    /// layer applied twice is the same dimension both times).</summary>
    public Dim LayerDim(LayerSpec layer, ArgSpec? arg, string which)
    {
        var key = layer.Name + "." + which;
        if (Scope.LayerDims.TryGetValue(key, out var cached)) return cached;
        var d = arg is null ? Unifier.NewDim() : ArgDim(arg);
        Scope.LayerDims[key] = d;
        return d;
    }

    /// <summary>An argument as a dimension: its constant, or a symbol named by its text with the scope's constructor
    /// parameters substituted (so Block(width)'s <c>width</c> is the caller's <c>6</c> or <c>hidden</c>).</summary>
    public Dim ArgDim(ArgSpec arg)
    {
        if (arg.Constant is double c) return Dim.Const((long)c);
        ExpressionSyntax expression;
        try
        {
            expression = SyntaxFactory.ParseExpression(arg.Text);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Dim.Symbol(Normalize(arg.Text));
        }
        return Evaluate(expression) ?? Dim.Symbol(Normalize(arg.Text));
    }

    private Dim? Evaluate(ExpressionSyntax e)
    {
        switch (e)
        {
            case ParenthesizedExpressionSyntax p:
                return Evaluate(p.Expression);
            case LiteralExpressionSyntax { Token.Value: int or long } lit:
                return Dim.Const(Convert.ToInt64(lit.Token.Value, CultureInfo.InvariantCulture));
            case IdentifierNameSyntax id:
                return Scope.Bindings.TryGetValue(id.Identifier.ValueText, out var bound) ? bound : Dim.Symbol(id.Identifier.ValueText);
            case MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name: IdentifierNameSyntax name }:
                return Evaluate(name);
            // config.Hidden inside Block(Config s) created as new Block(sizes): sizes.Hidden
            case MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax owner, Name: IdentifierNameSyntax member }
                when Scope.Bindings.TryGetValue(owner.Identifier.ValueText, out var ownerDim) && ownerDim.Kind == DimKind.Symbol:
                return Dim.Symbol(ownerDim.Name + "." + member.Identifier.ValueText);
            case BinaryExpressionSyntax bin when bin.Kind() is SyntaxKind.AddExpression or SyntaxKind.SubtractExpression or SyntaxKind.MultiplyExpression or SyntaxKind.DivideExpression:
                {
                    var a = Evaluate(bin.Left);
                    var b = Evaluate(bin.Right);
                    if (a is null || b is null) return null;
                    if (a.Kind == DimKind.Const && b.Kind == DimKind.Const)
                    {
                        switch (bin.Kind())
                        {
                            case SyntaxKind.AddExpression: return Dim.Const(a.Value + b.Value);
                            case SyntaxKind.SubtractExpression: return Dim.Const(a.Value - b.Value);
                            case SyntaxKind.MultiplyExpression: return Dim.Const(a.Value * b.Value);
                            default: return b.Value != 0 ? Dim.Const(a.Value / b.Value) : null;
                        }
                    }
                    return Dim.Symbol(Wrap(a) + bin.OperatorToken.Text + Wrap(b));
                }
            default:
                return Dim.Symbol(Normalize(e.ToString()));
        }
    }

    private static string Wrap(Dim d) => d.Kind == DimKind.Symbol && d.Name.IndexOfAny(new[] { '+', '-', '*', '/' }) >= 0 ? "(" + d.Name + ")" : d.ToString();

    private static string Normalize(string text) => new string(text.Where(ch => !char.IsWhiteSpace(ch)).ToArray());

    /// <summary>Applies a nested model (or one block of a list) to <paramref name="inputs"/>: its graph is checked in a
    /// scope where its constructor parameters are the caller's arguments; the first contradiction inside is reported
    /// at the caller's node, with the inner model's message, and the result is null (unknown, so that the mistake is
    /// not reported again downstream).</summary>
    public SymShape? ApplyNested(Node node, LayerSpec layer, IReadOnlyList<SymShape> inputs, NestedModel? nested)
    {
        if (nested is null || nested.HasOwnErrors || nested.Graph.Errors.Count > 0 || nested.Graph.Output < 0 || _depth >= ShapeChecker.MaxNesting)
            return Unifier.NewShape();
        var bindings = ShapeScope.ConstantBindings(nested.Constants);
        foreach (var kv in nested.Bindings) bindings[kv.Key] = ArgDim(kv.Value);
        var innerIssues = new List<ShapeIssue>();
        var inner = new ShapeContext(Unifier, new ShapeScope(nested.Spec, bindings, nested.Resolve), innerIssues, _depth + 1);
        var shapes = inner.Run(nested.Graph, inputs);
        if (innerIssues.Count > 0)
        {
            var first = innerIssues[0];
            Report(first.Id, node, $"in nested model '{layer.Name}' ({nested.Spec.ClassName}): {first.Message}", layer.Name);
            return null;
        }
        return shapes.TryGetValue(nested.Graph.Output, out var output) ? output : Unifier.NewShape();
    }

    /// <summary>A short rendering of a Forward expression for messages (<c>Relu(fc2.Apply(…))</c>).</summary>
    public static string Describe(ExpressionSpec? e, int depth = 0)
    {
        if (e is null) return "?";
        if (e.Kind is ExpressionKind.Variable or ExpressionKind.Number) return e.Name;
        if (depth > 2) return "…";
        string Args(IEnumerable<ExpressionSpec> args) => string.Join(", ", args.Select(a => (a.ArgName is null ? "" : a.ArgName + ": ") + Describe(a, depth + 1)));
        return e.Kind switch
        {
            ExpressionKind.Variable or ExpressionKind.Number or ExpressionKind.Unsupported => e.Name,
            ExpressionKind.Function => $"{e.Name}({Args(e.Args)})",
            ExpressionKind.LayerCall => $"{e.Name}.Apply({Args(e.Args)})",
            ExpressionKind.Method when e.Args.Count > 0 => $"{Describe(e.Args[0], depth + 1)}.{e.Name}({Args(e.Args.Skip(1))})",
            ExpressionKind.Binary when e.Args.Count == 2 => $"{Describe(e.Args[0], depth + 1)} {e.Name} {Describe(e.Args[1], depth + 1)}",
            ExpressionKind.Negate when e.Args.Count == 1 => $"-{Describe(e.Args[0], depth + 1)}",
            _ => e.Name,
        };
    }

    /// <summary>The text of the node's <paramref name="index"/>-th tensor argument as written in Forward.</summary>
    public static string DescribeArgument(Node node, int index)
    {
        if (node.Origin is not ExpressionSpec e) return "its input";
        var args = e.Kind == ExpressionKind.Function
            ? e.Args.Where(a => a.ArgName is null || a.ArgName is "x" or "prediction" or "target").ToList()
            : e.Kind == ExpressionKind.Method ? e.Args.Take(1).ToList() : e.Args.ToList();
        return index < args.Count ? "'" + Describe(args[index]) + "'" : "its input";
    }
}
