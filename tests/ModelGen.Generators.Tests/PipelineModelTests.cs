using System.Reflection;
using Microsoft.CodeAnalysis;
using ModelGen.Generators.Model;
using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>The pipeline model holds values only: a symbol, syntax node, location, semantic model or compilation in
/// it would root a whole compilation in the generator cache and break caching.</summary>
public sealed class PipelineModelTests
{
    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxToken), typeof(SyntaxTree), typeof(Location),
        typeof(SemanticModel), typeof(Compilation),
    };

    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    [Test]
    public void ModelSpecHoldsNoSymbolsSyntaxOrCompilations()
    {
        var visited = new HashSet<Type>();
        var problems = new List<string>();
        Walk(typeof(ModelSpec), nameof(ModelSpec), visited, problems);

        Assert.That(problems, Is.Empty, "the pipeline model reaches forbidden types:\n  " + string.Join("\n  ", problems));
        // The walk reached the whole model, through EquatableArray<T>'s element types and the recursive records.
        Assert.That(visited, Does.Contain(typeof(LayerSpec)).And.Contain(typeof(ArgSpec)).And.Contain(typeof(ForwardSpec))
            .And.Contain(typeof(StatementSpec)).And.Contain(typeof(ExpressionSpec)).And.Contain(typeof(ContainingTypeSpec)));
    }

    [Test]
    public void PipelineModelRecordsHaveValueEquality()
    {
        var a = GeneratorHarness.CreateCompilation(TestSources.FashionMlp, TestSources.Deep);
        var b = GeneratorHarness.CreateCompilation(TestSources.FashionMlp, TestSources.Deep);
        var specsA = Specs(GeneratorHarness.Run(a));
        var specsB = Specs(GeneratorHarness.Run(b));
        Assert.That(specsA, Has.Count.EqualTo(4));
        Assert.That(specsB, Is.EqualTo(specsA), "specs of two separate but identical compilations differ");
        Assert.That(specsB.Select(s => s.GetHashCode()), Is.EqualTo(specsA.Select(s => s.GetHashCode())));
    }

    private static List<ModelSpec> Specs(GeneratorRun run) =>
        run.Result.Results[0].TrackedSteps[ModelGenerator.SpecTrackingName]
            .SelectMany(s => s.Outputs).Select(o => (ModelSpec)o.Value).ToList();

    private static void Walk(Type type, string path, HashSet<Type> visited, List<string> problems)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying) type = underlying;
        if (type.IsArray)
        {
            Walk(type.GetElementType()!, path + "[]", visited, problems);
            return;
        }
        if (!visited.Add(type)) return;

        if (Forbidden.FirstOrDefault(f => f.IsAssignableFrom(type)) is { } bad)
        {
            problems.Add($"{path}: {type} (a {bad.Name})");
            return;
        }
        if (type == typeof(object) || (type.IsInterface && type.Assembly != typeof(ModelSpec).Assembly && !type.IsGenericType))
        {
            problems.Add($"{path}: {type} can hold anything, including symbols");
            return;
        }
        foreach (var arg in type.IsGenericType ? type.GetGenericArguments() : Type.EmptyTypes)
            Walk(arg, $"{path}<{arg.Name}>", visited, problems);

        // Look inside the generator's own types only; framework types (string, Type, enums) are leaves.
        if (type.Assembly != typeof(ModelSpec).Assembly) return;
        for (var t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType)
        {
            foreach (var field in t.GetFields(Instance | BindingFlags.DeclaredOnly))
                Walk(field.FieldType, $"{path}.{field.Name}", visited, problems);
            foreach (var property in t.GetProperties(Instance | BindingFlags.DeclaredOnly))
                if (property.GetIndexParameters().Length == 0 && property.Name != "EqualityContract")
                    Walk(property.PropertyType, $"{path}.{property.Name}", visited, problems);
        }
    }
}
