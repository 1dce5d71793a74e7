using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Model;
using ModelGen.Generators.Parsing;

namespace ModelGen.Generators;

/// <summary>
/// The incremental pipeline only: [Model] classes → <see cref="ModelSpec"/> (value-equatable) → generated sources.
/// Parsing is in <see cref="ModelParser"/>, lowering and fusion in Graph/, the op rules in Ops/, emission in Emit/.
/// Diagnostics come from the analyzers, not from here.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    public const string SpecTrackingName = "ModelSpec";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ModelParser.ModelAttributeName,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (ctx, ct) => ModelParser.Parse(ctx, ct))
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(SpecTrackingName);

        context.RegisterSourceOutput(specs, static (spc, spec) =>
        {
            var (model, kernels) = ModelEmitter.Emit(spec);
            var hint = HintName(spec);
            spc.AddSource(hint + ".g.cs", model);
            spc.AddSource(hint + ".Kernels.g.cs", kernels);
        });
    }

    private static string HintName(ModelSpec spec)
    {
        var parts = new System.Collections.Generic.List<string>();
        if (spec.Namespace.Length > 0) parts.Add(spec.Namespace);
        foreach (var c in spec.ContainingTypes) parts.Add(c.Name.TrimStart('@'));
        parts.Add(spec.ClassName.TrimStart('@'));
        return string.Join(".", parts);
    }
}
