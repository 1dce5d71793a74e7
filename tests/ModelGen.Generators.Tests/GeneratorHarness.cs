using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelGen.Generators.Tests;

/// <summary>One run of <see cref="ModelGenerator"/>: the driver after the run (for incremental re-runs), its result
/// and the compilation with the generated sources added.</summary>
public sealed class GeneratorRun
{
    public GeneratorRun(GeneratorDriver driver, GeneratorDriverRunResult result, Compilation output)
    {
        Driver = driver;
        Result = result;
        Output = output;
    }

    public GeneratorDriver Driver { get; }
    public GeneratorDriverRunResult Result { get; }
    public Compilation Output { get; }

    /// <summary>The generated source whose hint name ends with <paramref name="suffix"/> (e.g. "FashionMlp.g.cs").</summary>
    public string Source(string suffix)
    {
        var matches = Result.Results[0].GeneratedSources.Where(s => s.HintName.EndsWith("." + suffix, StringComparison.Ordinal) || s.HintName == suffix).ToList();
        if (matches.Count != 1)
            throw new InvalidOperationException($"expected one generated source ending with '{suffix}', found: "
                + string.Join(", ", Result.Results[0].GeneratedSources.Select(s => s.HintName)));
        return matches[0].SourceText.ToString();
    }
}

/// <summary>Builds test compilations against the platform and ModelGen.Runtime and runs the generator on them.</summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        .WithAllowUnsafe(true)
        .WithNullableContextOptions(NullableContextOptions.Enable);

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences);

    private static readonly Lazy<CSharpCompilation> LazyEmpty = new(() =>
        CSharpCompilation.Create("ModelGen.GeneratorTestInput", Array.Empty<SyntaxTree>(), References, CompilationOptions));

    /// <summary>The trusted platform assemblies plus ModelGen.Runtime.dll, loaded once.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var runtime = typeof(ModelGen.Module).Assembly.Location;
        var tpa = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        // One file per simple name, ModelGen.Runtime from its assembly's location (the TPA list may hold it too).
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in tpa) byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        byName[Path.GetFileNameWithoutExtension(runtime)] = runtime;
        return byName.Values.OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    public static SyntaxTree Parse(string source, string path = "") => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    /// <summary>A compilation of <paramref name="sources"/>. All compilations derive from one empty compilation so
    /// they share the loaded reference symbols (cheap to create many).</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CreateCompilation(sources.Select((s, i) => Parse(s, $"Input{i}.cs")));

    public static CSharpCompilation CreateCompilation(IEnumerable<SyntaxTree> trees) => LazyEmpty.Value.AddSyntaxTrees(trees);

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs a fresh driver on <paramref name="compilation"/>.</summary>
    public static GeneratorRun Run(Compilation compilation) => Run(CreateDriver(), compilation);

    /// <summary>Runs <paramref name="driver"/> (possibly holding the state of earlier runs) on <paramref name="compilation"/>.</summary>
    public static GeneratorRun Run(GeneratorDriver driver, Compilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return new GeneratorRun(driver, driver.GetRunResult(), output);
    }

    public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

    public static string Format(IEnumerable<Diagnostic> diagnostics) =>
        string.Join(Environment.NewLine, diagnostics.Select(d => "  " + d));
}
