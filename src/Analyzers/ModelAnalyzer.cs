using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;
using ModelGen.Generators.Parsing;

namespace ModelGen.Analyzers;

/// <summary>
/// Reports every ModelGen diagnostic of a [Model] class: the class's form (partial, layer types, layer dimensions),
/// what the generator cannot compile in Forward, shape contradictions (through nested models and block lists), and
/// unused layers and bad dropout probabilities. Parse, Graph and the shape rules are the generator's own code.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModelAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.LinearInput, Descriptors.LayerNormInput, Descriptors.AttentionOperands, Descriptors.HeadsDivide, Descriptors.Rank,
        Descriptors.ChannelMismatch, Descriptors.WindowSize, Descriptors.MatMulInner, Descriptors.DimRange, Descriptors.DType,
        Descriptors.ElementwiseShapes, Descriptors.ReshapeCount, Descriptors.MseTarget,
        Descriptors.BlockListShape, Descriptors.NotPartial, Descriptors.UnsupportedLayerType, Descriptors.UndeclaredDimension,
        Descriptors.UnsupportedConstruct, Descriptors.UnusedLayer, Descriptors.DropoutProbability);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (start.Compilation.GetTypeByMetadataName(ModelCache.ModelAttribute) is null) return;
            var cache = new ModelCache(start.Compilation);
            start.RegisterSymbolAction(symbol => AnalyzeType(symbol, cache), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, ModelCache cache)
    {
        if (context.Symbol is not INamedTypeSymbol { TypeKind: TypeKind.Class } type || !ModelCache.IsModel(type)) return;
        var ct = context.CancellationToken;
        var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(ct)).OfType<ClassDeclarationSyntax>().ToList();
        if (declarations.Count == 0) return;
        // the generator's own declarations are partial; every declaration the user wrote must be too
        foreach (var declaration in declarations.Where(d => !d.Modifiers.Any(SyntaxKind.PartialKeyword)))
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.NotPartial, declaration.Identifier.GetLocation(), type.Name));

        var analysis = cache.Get(type, ct);
        if (analysis is null) return;
        var reporter = new Reporter(context, analysis, declarations[0]);
        reporter.Layers();
        reporter.GraphErrors();
        reporter.ShapeIssues();
        reporter.UnusedLayers();
    }

    private sealed class Reporter
    {
        private readonly SymbolAnalysisContext _context;
        private readonly ModelAnalysis _a;
        private readonly ClassDeclarationSyntax _class;

        public Reporter(SymbolAnalysisContext context, ModelAnalysis analysis, ClassDeclarationSyntax declaration)
        {
            _context = context;
            _a = analysis;
            _class = declaration;
        }

        private CancellationToken Ct => _context.CancellationToken;

        private void Report(DiagnosticDescriptor descriptor, Location location, IEnumerable<Location>? additional, params object[] args)
            => _context.ReportDiagnostic(Diagnostic.Create(descriptor, location, additional, args));

        /// <summary>MG0012 unsupported layer types, MG0013 undeclared dimensions, MG0016 dropout probabilities.</summary>
        public void Layers()
        {
            foreach (var layer in _a.Spec.Layers)
            {
                if (!_a.Trace.Layers.TryGetValue(layer.Name, out var lt)) continue;
                switch (layer.Kind)
                {
                    case LayerKind.Unsupported when lt.Type.TypeKind != TypeKind.Error:
                        Report(Descriptors.UnsupportedLayerType, TypeLocation(lt), null, lt.Member.Name, lt.Type.ToDisplayString());
                        break;
                    case LayerKind.Linear:
                        CheckDimension(lt, 0, "in_features", "inFeatures");
                        CheckDimension(lt, 1, "out_features", "outFeatures");
                        break;
                    case LayerKind.Dropout:
                        CheckDropout(lt);
                        break;
                    case LayerKind.LayerNorm:
                        CheckDimension(lt, 0, "dim");
                        break;
                    case LayerKind.Embedding:
                        CheckDimension(lt, 0, "count");
                        CheckDimension(lt, 1, "dim");
                        break;
                    case LayerKind.Conv2d:
                        CheckDimension(lt, 0, "inChannels", "in_channels");
                        CheckDimension(lt, 1, "outChannels", "out_channels");
                        break;
                    case LayerKind.BatchNorm2d:
                        CheckDimension(lt, 0, "numFeatures", "num_features");
                        break;
                }
            }
        }

        private static Location TypeLocation(LayerTrace lt) => lt.Declaration switch
        {
            VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax decl } => decl.Type.GetLocation(),
            PropertyDeclarationSyntax p => p.Type.GetLocation(),
            _ => lt.Declaration.GetLocation(),
        };

        private static ArgumentSyntax? Argument(LayerTrace lt, int position, params string[] names)
        {
            if (lt.Arguments is null) return null;
            var args = lt.Arguments.Arguments;
            return args.FirstOrDefault(a => a.NameColon is not null && names.Contains(a.NameColon.Name.Identifier.ValueText))
                   ?? (position < args.Count && args[position].NameColon is null ? args[position] : null);
        }

        private SemanticModel? Semantic(SyntaxNode node)
            => _context.Compilation.ContainsSyntaxTree(node.SyntaxTree) ? SemanticModels.For(_context.Compilation, node.SyntaxTree) : null;

        private void CheckDimension(LayerTrace lt, int position, params string[] names)
        {
            var name = names[0];
            var arg = Argument(lt, position, names);
            if (arg is null || Semantic(arg) is not { } model) return;
            if (!DimensionExpressions.IsSymbolic(arg.Expression, model, Ct))
                Report(Descriptors.UndeclaredDimension, arg.Expression.GetLocation(), new[] { lt.Declaration.GetLocation() }, name, lt.Member.Name, arg.Expression.ToString());
        }

        private void CheckDropout(LayerTrace lt)
        {
            var arg = Argument(lt, 0, "p");
            if (arg is null || Semantic(arg) is not { } model) return;
            var constant = model.GetConstantValue(arg.Expression, Ct);
            if (!constant.HasValue || constant.Value is null or string or bool) return;
            double p = System.Convert.ToDouble(constant.Value, System.Globalization.CultureInfo.InvariantCulture);
            if (!(p >= 0 && p < 1))
                Report(Descriptors.DropoutProbability, arg.Expression.GetLocation(), new[] { lt.Declaration.GetLocation() },
                    lt.Member.Name, p.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }

        /// <summary>MG0014: what GraphBuilder could not lower (unsupported layer types are MG0012 already).</summary>
        public void GraphErrors()
        {
            for (int i = 0; i < _a.Graph.Errors.Count; i++)
            {
                var origin = _a.Graph.ErrorOrigins[i];
                if (origin is LayerSpec) continue;
                var location = origin is not null && _a.Trace.Origins.TryGetValue(origin, out var syntax)
                    ? syntax is MethodDeclarationSyntax m ? m.Identifier.GetLocation() : syntax.GetLocation()
                    : _class.Identifier.GetLocation();
                Report(Descriptors.UnsupportedConstruct, location, null, $"{_a.Spec.ClassName}.Forward cannot be compiled by ModelGen: {_a.Graph.Errors[i]}");
            }
        }

        /// <summary>Shape contradictions: at the node where the value enters, with the layers' declarations.</summary>
        public void ShapeIssues()
        {
            if (_a.Graph.Errors.Count > 0) return;
            foreach (var issue in _a.Shapes.Issues)
            {
                var descriptor = Descriptors.ForShapeIssue(issue.Id);
                if (descriptor is null) continue;
                var location = NodeLocation(issue.Node);
                var additional = new List<Location>();
                var declaredAt = new List<string>();
                foreach (var name in issue.Layers)
                {
                    if (!_a.Trace.Layers.TryGetValue(name, out var lt)) continue;
                    var declaration = lt.Declaration.GetLocation();
                    additional.Add(declaration);
                    declaredAt.Add($"'{name}' is declared at {Where(declaration, location)}");
                    if (lt.FromConstructor && lt.Initializer is not null)
                    {
                        var created = lt.Initializer.GetLocation();
                        additional.Add(created);
                        declaredAt.Add($"created at {Where(created, location)}");
                    }
                }
                var message = issue.Message + (declaredAt.Count > 0 ? "; " + string.Join(", ", declaredAt) : "");
                Report(descriptor, location, additional, message);
            }
        }

        private static string Where(Location location, Location primary)
        {
            var span = location.GetLineSpan();
            var file = Path.GetFileName(span.Path);
            var line = span.StartLinePosition.Line + 1;
            return primary.SourceTree == location.SourceTree || string.IsNullOrEmpty(file) ? $"line {line}" : $"{file} line {line}";
        }

        private Location NodeLocation(Node node)
        {
            if (node.Origin is null || !_a.Trace.Origins.TryGetValue(node.Origin, out var syntax)) return _class.Identifier.GetLocation();
            // a layer's use: squiggle 'fc3.Apply', where the value enters the layer
            if (syntax is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Apply" } callee })
                return callee.GetLocation();
            return syntax.GetLocation();
        }

        /// <summary>MG0015: layers no node of the graph uses (only when Forward compiled).</summary>
        public void UnusedLayers()
        {
            if (_a.Graph.Errors.Count > 0 || _a.Graph.Output < 0) return;
            var used = new HashSet<string>(_a.Graph.Nodes.Where(n => n.Kind != OpKind.Input).SelectMany(n => new[] { n.Layer, n.ProbsDropout }));
            foreach (var layer in _a.Spec.Layers)
            {
                if (layer.Kind == LayerKind.Unsupported || used.Contains(layer.Name)) continue;
                if (!_a.Trace.Layers.TryGetValue(layer.Name, out var lt)) continue;
                var location = lt.Declaration is VariableDeclaratorSyntax v ? v.Identifier.GetLocation()
                    : lt.Declaration is PropertyDeclarationSyntax p ? p.Identifier.GetLocation() : lt.Declaration.GetLocation();
                Report(Descriptors.UnusedLayer, location, null, lt.Member.Name);
            }
        }
    }
}
