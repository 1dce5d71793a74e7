using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Generators;

namespace ModelGen.Analyzers.Tests;

/// <summary>Compilations against the running platform's assemblies plus ModelGen.Runtime and ILGPU, the generator and
/// the analyzer run directly (no test framework in between): for the robustness test and the benchmark.</summary>
public static class CompilationHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<CSharpCompilation> LazyEmpty = new(() =>
    {
        var runtime = typeof(ModelGen.Module).Assembly.Location;
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        byName["ModelGen.Runtime"] = runtime;
        byName["ILGPU"] = Path.Combine(Path.GetDirectoryName(runtime)!, "ILGPU.dll");
        var references = byName.Values.OrderBy(p => p, StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        return CSharpCompilation.Create("ModelGen.AnalyzerTestInput",
            new[] { CSharpSyntaxTree.ParseText(TestEnvironment.Usings, ParseOptions, "GlobalUsings.cs") },
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary).WithNullableContextOptions(NullableContextOptions.Enable));
    });

    public static CSharpCompilation Create(string source, string path = "Model.cs")
        => LazyEmpty.Value.AddSyntaxTrees(CSharpSyntaxTree.ParseText(source, ParseOptions, path));

    /// <summary>Runs the generator, then the analyzer on the generated compilation. Returns the generator's diagnostics,
    /// the analyzer's diagnostics and any exception either threw.</summary>
    public static async Task<(ImmutableArray<Diagnostic> Generator, ImmutableArray<Diagnostic> Analyzer, List<string> Exceptions)> RunAsync(Compilation compilation, SyntaxTree? userTree = null)
    {
        var exceptions = new List<string>();
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        foreach (var r in driver.GetRunResult().Results)
            if (r.Exception is not null) exceptions.Add("generator: " + r.Exception);
        ImmutableArray<Diagnostic> analyzerDiagnostics;
        if (userTree is null) analyzerDiagnostics = await Analyze(output, e => exceptions.Add("analyzer: " + e));
        else
        {
            // only the user's file: the symbol actions of its types run without binding the generated method bodies
            var model = output.GetSemanticModel(userTree);
            analyzerDiagnostics = await WithAnalyzer(output, e => exceptions.Add("analyzer: " + e), logTime: false)
                .GetAnalyzerSemanticDiagnosticsAsync(model, null, default);
        }
        return (generatorDiagnostics, analyzerDiagnostics, exceptions);
    }

    /// <summary>The compilation with the generator's sources added.</summary>
    public static Compilation Generate(Compilation compilation)
    {
        CSharpGeneratorDriver.Create(new[] { new ModelGenerator().AsSourceGenerator() }, parseOptions: ParseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return output;
    }

    public static Task<ImmutableArray<Diagnostic>> Analyze(Compilation compilation, Action<Exception>? onException = null)
        => WithAnalyzer(compilation, onException, logTime: false).GetAnalyzerDiagnosticsAsync();

    public static CompilationWithAnalyzers WithAnalyzer(Compilation compilation, Action<Exception>? onException, bool logTime)
    {
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (e, _, _) => onException?.Invoke(e),
            concurrentAnalysis: false, logAnalyzerExecutionTime: logTime);
        return compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new ModelAnalyzer()), options);
    }
}
