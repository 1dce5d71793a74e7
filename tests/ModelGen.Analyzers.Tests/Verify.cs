using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using ModelGen.Analyzers.CodeFixes;
using ModelGen.Generators;

namespace ModelGen.Analyzers.Tests;

/// <summary>The test environment: net10.0 reference assemblies (Microsoft.NETCore.App.Ref 10.0.x, fetched by the
/// testing library like its built-in Net80) plus ModelGen.Runtime.dll, with the generator running before the analyzer
/// (as in a real build), so test sources compile exactly as a user's project does.</summary>
public static class TestEnvironment
{
    public static readonly ReferenceAssemblies Net100 = new(
        "net10.0",
        new PackageIdentity("Microsoft.NETCore.App.Ref", "10.0.12"),
        Path.Combine("ref", "net10.0"));

    public static readonly MetadataReference Runtime = MetadataReference.CreateFromFile(typeof(ModelGen.Module).Assembly.Location);

    /// <summary>The generated GPU kernels use ILGPU (a dependency of the runtime package).</summary>
    public static readonly MetadataReference Ilgpu = MetadataReference.CreateFromFile(Path.Combine(Path.GetDirectoryName(typeof(ModelGen.Module).Assembly.Location)!, "ILGPU.dll"));

    public const string Usings = "global using ModelGen;\nglobal using System;\nglobal using System.Linq;\nglobal using System.Collections.Generic;\n";

    public static void Configure(SolutionState state)
    {
        state.AdditionalReferences.Add(Runtime);
        state.AdditionalReferences.Add(Ilgpu);
        state.Sources.Add(("GlobalUsings.cs", Usings));
    }
}

public sealed class ModelAnalyzerTest : CSharpAnalyzerTest<ModelAnalyzer, DefaultVerifier>
{
    public ModelAnalyzerTest()
    {
        ReferenceAssemblies = TestEnvironment.Net100;
        TestEnvironment.Configure(TestState);
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
    }

    protected override IEnumerable<Type> GetSourceGenerators() => new[] { typeof(ModelGenerator) };

    protected override ParseOptions CreateParseOptions() => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}

public sealed class MakePartialFixTest : CSharpCodeFixTest<ModelAnalyzer, MakePartialCodeFix, DefaultVerifier>
{
    public MakePartialFixTest()
    {
        ReferenceAssemblies = TestEnvironment.Net100;
        TestEnvironment.Configure(TestState);
        TestEnvironment.Configure(FixedState);
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
    }

    protected override IEnumerable<Type> GetSourceGenerators() => new[] { typeof(ModelGenerator) };

    protected override ParseOptions CreateParseOptions() => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}

public static class Verify
{
    public static DiagnosticResult Diagnostic(DiagnosticDescriptor descriptor) => new(descriptor);

    /// <summary>Runs the analyzer (after the generator) on <paramref name="source"/>; the markup and
    /// <paramref name="expected"/> must be exactly the diagnostics reported.</summary>
    public static Task Analyze(string source, params DiagnosticResult[] expected)
    {
        var test = new ModelAnalyzerTest { TestCode = source };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }
}
