using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelGen.Analyzers.Tests;

/// <summary>The analyzer and the generator run on every keystroke: fed every prefix (at each token boundary) of the
/// sample model files — truncated files, missing braces, half-typed names — they never throw (no AD0001, no CS8785).</summary>
public sealed class RobustnessTests
{
    public static IEnumerable<string> Files() => new[]
    {
        Path.Combine("samples", "FashionMnist", "FashionMlp.cs"),
        Path.Combine("tests", "ModelGen.Runtime.Tests", "Graphs", "GraphModels.cs"),
        Path.Combine("tests", "ModelGen.Runtime.Tests", "Ops", "TransformerOpModels.cs"),
        Path.Combine("tests", "ModelGen.Runtime.Tests", "Ops", "TensorAlgebraModels.cs"),
    };

    [TestCaseSource(nameof(Files))]
    public async Task EveryPrefixAtATokenBoundary(string file)
    {
        var full = File.ReadAllText(Path.Combine(ShippedModelsTests.RepoRoot(), file));
        var cuts = CSharpSyntaxTree.ParseText(full, CompilationHarness.ParseOptions).GetRoot()
            .DescendantTokens().Select(t => t.Span.End).Prepend(0).Distinct().ToList();
        Assert.That(cuts, Has.Count.GreaterThan(50));

        var failures = new List<string>();
        int reported = 0;
        foreach (var cut in cuts)
        {
            var prefix = full.Substring(0, cut);
            try
            {
                var compilation = CompilationHarness.Create(prefix);
                var (generator, analyzer, exceptions) = await CompilationHarness.RunAsync(compilation, compilation.SyntaxTrees.Last());
                foreach (var e in exceptions) failures.Add($"cut {cut}: {e}");
                foreach (var d in generator.Concat(analyzer).Where(d => d.Id is "AD0001" or "CS8785"))
                    failures.Add($"cut {cut}: {d}");
                reported += analyzer.Count(d => d.Id.StartsWith("MG", StringComparison.Ordinal));
            }
            catch (Exception e)
            {
                failures.Add($"cut {cut}: threw {e}");
            }
        }
        Assert.That(failures, Is.Empty, $"{failures.Count} of {cuts.Count} prefixes failed:\n" + string.Join("\n", failures.Take(5)));
        // the prefixes do exercise the analyzer (incomplete Forward bodies are reported, not crashed on)
        Assert.That(reported, Is.GreaterThan(0));
        TestContext.Out.WriteLine($"{file}: {cuts.Count} prefixes, {reported} ModelGen diagnostics, no exception");
    }
}
