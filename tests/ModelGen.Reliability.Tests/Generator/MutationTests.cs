using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using ModelGen.Analyzers;
using ModelGen.Generators;

namespace ModelGen.Reliability.Tests.Generator;

/// <summary>
/// Seeded random mutations of valid model sources — deleted or duplicated tokens, swapped layer declarations, swapped
/// layers in Forward, changed numbers — make the generator and the analyzer report diagnostics, never crash: no
/// exception from either, no CS8785 (generator failed) and no AD0001 (analyzer threw). MODELGEN_MUTATION_ITER raises
/// the count (scripts/reliability-full.sh).
/// </summary>
[Category("Fuzz")]
public sealed class MutationTests
{
    public static int Iterations => Fuzz.FuzzRunner.EnvInt("MODELGEN_MUTATION_ITER", 300);

    private static readonly string[] SourceFiles =
    [
        Path.Combine("samples", "FashionMnist", "FashionMlp.cs"),
        Path.Combine("tests", "ModelGen.Runtime.Tests", "Graphs", "GraphModels.cs"),
        Path.Combine("tests", "ModelGen.Runtime.Tests", "Ops", "TransformerOpModels.cs"),
        Path.Combine("tests", "ModelGen.Runtime.Tests", "Ops", "TensorAlgebraModels.cs"),
        Path.Combine("tests", "ModelGen.Runtime.Tests", "Ops", "MaskModels.cs"),
    ];

    private static readonly string[] Numbers = ["0", "1", "-1", "2", "3", "7", "13", "1000000", "2147483647", "-2147483648", "0.5", "1e30", "1e-30", "0x10"];

    [Test]
    public async Task MutatedModels_ProduceOnlyDiagnostics()
    {
        var root = Repo.Root;
        var sources = SourceFiles.Select(f => File.ReadAllText(Path.Combine(root, f))).ToArray();
        var failures = new List<string>();
        var kinds = new Dictionary<string, int>();
        int withModelGenDiagnostics = 0, withSyntaxErrors = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var rng = new Random(i);
            int which = rng.Next(sources.Length);
            var source = sources[which];
            var applied = new List<string>();
            int count = 1 + rng.Next(3);
            for (int m = 0; m < count; m++)
            {
                var (mutated, kind) = Mutate(source, rng);
                source = mutated;
                applied.Add(kind);
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
            try
            {
                var compilation = Empty.Value.AddSyntaxTrees(CSharpSyntaxTree.ParseText(source, ParseOptions, "Model.cs"));
                var (diagnostics, exceptions) = await RunAsync(compilation, compilation.SyntaxTrees.Last());
                foreach (var e in exceptions) failures.Add($"mutation {i} ({string.Join(", ", applied)}) of {SourceFiles[which]}: {e}");
                foreach (var d in diagnostics.Where(d => d.Id is "AD0001" or "CS8785"))
                    failures.Add($"mutation {i} ({string.Join(", ", applied)}) of {SourceFiles[which]}: {d}");
                if (diagnostics.Any(d => d.Id.StartsWith("MG", StringComparison.Ordinal))) withModelGenDiagnostics++;
                if (compilation.SyntaxTrees.Last().GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error)) withSyntaxErrors++;
            }
            catch (Exception e)
            {
                failures.Add($"mutation {i} ({string.Join(", ", applied)}) of {SourceFiles[which]}: threw {e}");
            }
            if (failures.Count > 0 && failures.Count < 3) TestContext.Out.WriteLine("---- source of the failing mutation:\n" + source);
        }
        TestContext.Out.WriteLine($"{Iterations} mutated sources ({string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"))}): "
            + $"{withModelGenDiagnostics} with ModelGen diagnostics, {withSyntaxErrors} with syntax errors, {failures.Count} failures");
        // one example of each distinct failure (exception type and the ModelGen frame that threw)
        var distinct = failures.GroupBy(Signature).Select(g => $"{g.Count()} x {g.Key}:\n{g.First()}").ToList();
        Assert.That(failures, Is.Empty, $"{distinct.Count} distinct failure(s):\n\n" + string.Join("\n\n", distinct.Take(8)));
        Assert.That(withModelGenDiagnostics, Is.GreaterThan(Iterations / 20), "the mutations reach the analyzer's checks");
    }

    /// <summary>The mutations that once crashed the generator and the analyzer, minimised.</summary>
    public static IEnumerable<TestCaseData> Regressions()
    {
        yield return new TestCaseData("""
            [Model]
            public partial class Twice
            {
                [Layer] readonly Linear fc = new(4, 4);
                [Layer] readonly Linear fc = new(4, 2);
                Tensor Forward(Tensor x) => fc.Apply(x);
            }
            """).SetName("DuplicateLayerName");
        yield return new TestCaseData("""
            [Model]
            public partial class Same
            {
                [Layer] readonly Linear fc = new(4, 2);
                Tensor Forward(Tensor x) => fc.Apply(x);
            }

            [Model]
            public partial class Same
            {
                Tensor Forward(Tensor x) => Relu(x);
            }
            """).SetName("DuplicateModelClass");
    }

    [TestCaseSource(nameof(Regressions))]
    public async Task Regression(string source)
    {
        var compilation = Empty.Value.AddSyntaxTrees(CSharpSyntaxTree.ParseText(source, ParseOptions, "Model.cs"));
        var (diagnostics, exceptions) = await RunAsync(compilation, compilation.SyntaxTrees.Last());
        Assert.That(exceptions, Is.Empty);
        Assert.That(diagnostics.Where(d => d.Id is "AD0001" or "CS8785"), Is.Empty);
    }

    private static string Signature(string failure)
    {
        var type = System.Text.RegularExpressions.Regex.Match(failure, @"(System\.[A-Za-z.]+Exception)").Value;
        var frame = System.Text.RegularExpressions.Regex.Match(failure, @"at (ModelGen\.[^\s(]+)").Groups[1].Value;
        return $"{type} at {frame}";
    }

    // ------------------------------------------------------------------ mutations

    private static (string Source, string Kind) Mutate(string source, Random rng)
    {
        var root = CSharpSyntaxTree.ParseText(source, ParseOptions).GetRoot();
        var tokens = root.DescendantTokens().Where(t => t.Span.Length > 0).ToList();
        switch (rng.Next(6))
        {
            case 0: // delete one to three tokens
            {
                int start = rng.Next(tokens.Count), n = 1 + rng.Next(3);
                var last = tokens[Math.Min(tokens.Count - 1, start + n - 1)];
                return (source.Remove(tokens[start].SpanStart, last.Span.End - tokens[start].SpanStart), "delete-tokens");
            }
            case 1: // duplicate a token somewhere else
            {
                var token = tokens[rng.Next(tokens.Count)];
                int at = tokens[rng.Next(tokens.Count)].SpanStart;
                return (source.Insert(at, token.Text + " "), "insert-token");
            }
            case 2: // swap two [Layer] declarations
            {
                var layers = root.DescendantNodes().OfType<FieldDeclarationSyntax>()
                    .Where(f => f.AttributeLists.SelectMany(a => a.Attributes).Any(a => a.Name.ToString() == "Layer")).ToList();
                if (layers.Count < 2) goto case 4;
                var a = layers[rng.Next(layers.Count)];
                var b = layers[rng.Next(layers.Count)];
                if (a == b) goto case 4;
                return (Swap(source, a.Span, b.Span), "swap-layer-declarations");
            }
            case 3: // swap the layers two Apply calls use
            {
                var receivers = root.DescendantNodes().OfType<MemberAccessExpressionSyntax>()
                    .Where(m => m.Name.Identifier.Text == "Apply").Select(m => m.Expression).ToList();
                if (receivers.Count < 2) goto case 4;
                var a = receivers[rng.Next(receivers.Count)];
                var b = receivers[rng.Next(receivers.Count)];
                if (a.Span.OverlapsWith(b.Span) || a.ToString() == b.ToString()) goto case 4;
                return (Swap(source, a.Span, b.Span), "swap-applied-layers");
            }
            case 4: // change a number
            {
                var numbers = tokens.Where(t => t.IsKind(SyntaxKind.NumericLiteralToken)).ToList();
                if (numbers.Count == 0) goto case 0;
                var token = numbers[rng.Next(numbers.Count)];
                return (source.Remove(token.SpanStart, token.Span.Length).Insert(token.SpanStart, Numbers[rng.Next(Numbers.Length)]), "change-number");
            }
            default: // replace an identifier with another one of the file
            {
                var identifiers = tokens.Where(t => t.IsKind(SyntaxKind.IdentifierToken)).ToList();
                var token = identifiers[rng.Next(identifiers.Count)];
                var other = identifiers[rng.Next(identifiers.Count)];
                return (source.Remove(token.SpanStart, token.Span.Length).Insert(token.SpanStart, other.Text), "replace-identifier");
            }
        }
    }

    private static string Swap(string source, Microsoft.CodeAnalysis.Text.TextSpan a, Microsoft.CodeAnalysis.Text.TextSpan b)
    {
        if (a.Start > b.Start) (a, b) = (b, a);
        string textA = source.Substring(a.Start, a.Length), textB = source.Substring(b.Start, b.Length);
        return source[..a.Start] + textB + source[a.End..b.Start] + textA + source[b.End..];
    }

    // ------------------------------------------------------------------ compilation and the two components

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<CSharpCompilation> Empty = new(() =>
    {
        var runtime = typeof(Module).Assembly.Location;
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            byName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        byName["ModelGen.Runtime"] = runtime;
        byName["ILGPU"] = Path.Combine(Path.GetDirectoryName(runtime)!, "ILGPU.dll");
        const string usings = "global using ModelGen;\nglobal using System;\nglobal using System.Linq;\nglobal using System.Collections.Generic;\n";
        return CSharpCompilation.Create("ModelGen.MutationInput",
            [CSharpSyntaxTree.ParseText(usings, ParseOptions, "GlobalUsings.cs")],
            byName.Values.Order(StringComparer.Ordinal).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary).WithNullableContextOptions(NullableContextOptions.Enable));
    });

    /// <summary>Runs the generator, then the analyzer on the user's file of the generated compilation: every
    /// diagnostic of both, and any exception either threw.</summary>
    private static async Task<(ImmutableArray<Diagnostic> Diagnostics, List<string> Exceptions)> RunAsync(Compilation compilation, SyntaxTree userTree)
    {
        var exceptions = new List<string>();
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], parseOptions: ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        foreach (var r in driver.GetRunResult().Results)
            if (r.Exception is not null) exceptions.Add("generator: " + r.Exception);
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), (e, _, _) => exceptions.Add("analyzer: " + e),
            concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var analyzers = output.WithAnalyzers([new ModelAnalyzer()], options);
        var analyzerDiagnostics = await analyzers.GetAnalyzerSemanticDiagnosticsAsync(output.GetSemanticModel(userTree), null, default);
        return (generatorDiagnostics.AddRange(analyzerDiagnostics), exceptions);
    }
}
