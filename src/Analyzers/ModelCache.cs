using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;
using ModelGen.Generators.Parsing;

namespace ModelGen.Analyzers;

/// <summary>One [Model] class as the analyzers see it: the generator's spec and graph (parsed with a trace of where
/// everything came from) and the shape check's result.</summary>
internal sealed class ModelAnalysis
{
    public ModelAnalysis(INamedTypeSymbol type, ModelSpec spec, ParseTrace trace, ModelGraph graph, ShapeCheckResult shapes)
    {
        Type = type;
        Spec = spec;
        Trace = trace;
        Graph = graph;
        Shapes = shapes;
        HasOwnErrors = graph.Errors.Count > 0
            || shapes.Issues.Any(i => Descriptors.ForShapeIssue(i.Id)?.DefaultSeverity == DiagnosticSeverity.Error);
    }

    public INamedTypeSymbol Type { get; }
    public ModelSpec Spec { get; }
    public ParseTrace Trace { get; }
    public ModelGraph Graph { get; }
    public ShapeCheckResult Shapes { get; }
    public bool HasOwnErrors { get; }
}

/// <summary>The analyses of one compilation, each model analysed once (nested models and block lists reuse them).</summary>
internal sealed class ModelCache
{
    public const string ModelAttribute = ModelParser.ModelAttributeName;

    private readonly Compilation _compilation;
    private readonly ConcurrentDictionary<INamedTypeSymbol, ModelAnalysis?> _analyses = new(SymbolEqualityComparer.Default);

    [ThreadStatic] private static HashSet<INamedTypeSymbol>? t_inProgress;

    public ModelCache(Compilation compilation) => _compilation = compilation;

    public static bool IsModel(ITypeSymbol? type)
        => type is INamedTypeSymbol && type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == ModelAttribute);

    /// <summary>The analysis of a [Model] class declared in source; null for one from metadata or one that contains itself.</summary>
    public ModelAnalysis? Get(INamedTypeSymbol type, CancellationToken ct)
    {
        if (_analyses.TryGetValue(type, out var done)) return done;
        var inProgress = t_inProgress ??= new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        if (!inProgress.Add(type)) return null;
        try
        {
            return _analyses.GetOrAdd(type, Compute(type, ct));
        }
        finally
        {
            inProgress.Remove(type);
        }
    }

    private ModelAnalysis? Compute(INamedTypeSymbol type, CancellationToken ct)
    {
        var reference = type.DeclaringSyntaxReferences.FirstOrDefault();
        if (reference is null) return null;
        var semanticModel = _compilation.GetSemanticModel(reference.SyntaxTree);
        var trace = new ParseTrace();
        var spec = ModelParser.Parse(type, semanticModel, ct, trace);
        var graph = GraphBuilder.Build(spec);
        var shapes = ShapeChecker.Check(spec, graph, layer => Nested(trace, layer, ct), trace.FieldConstants);
        return new ModelAnalysis(type, spec, trace, graph, shapes);
    }

    private NestedModel? Nested(ParseTrace trace, LayerSpec layer, CancellationToken ct)
    {
        if (!trace.Layers.TryGetValue(layer.Name, out var lt)) return null;
        var modelType = layer.Kind switch
        {
            LayerKind.Model => lt.Type as INamedTypeSymbol,
            LayerKind.ModelList => (lt.Type as INamedTypeSymbol)?.TypeArguments.FirstOrDefault() as INamedTypeSymbol,
            _ => null,
        };
        if (modelType is null || !IsModel(modelType)) return null;
        var analysis = Get(modelType, ct);
        if (analysis is null) return null;
        return new NestedModel(analysis.Spec, analysis.Graph, lt.NestedBindings, l => Nested(analysis.Trace, l, ct), analysis.HasOwnErrors, analysis.Trace.FieldConstants);
    }
}
