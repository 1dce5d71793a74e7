using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>The generator runs in the IDE on every keystroke: it must never throw on incomplete code.</summary>
public sealed class RobustnessTests
{
    [TestCase(nameof(TestSources.FashionMlp))]
    [TestCase(nameof(TestSources.Deep))]
    public void EveryPrefixAtATokenBoundaryRunsWithoutFailure(string which)
    {
        var full = which == nameof(TestSources.FashionMlp) ? TestSources.FashionMlp : TestSources.Deep;
        var cuts = CSharpSyntaxTree.ParseText(full, GeneratorHarness.ParseOptions).GetRoot()
            .DescendantTokens().Select(t => t.Span.End).Prepend(0).Distinct().ToList();
        Assert.That(cuts, Has.Count.GreaterThan(50));

        var failures = new List<string>();
        var generatedAny = false;
        foreach (var cut in cuts)
        {
            var prefix = full.Substring(0, cut);
            var compilation = GeneratorHarness.CreateCompilation(prefix);
            GeneratorRun run;
            try
            {
                run = GeneratorHarness.Run(compilation);
            }
            catch (Exception e)
            {
                failures.Add($"cut {cut}: driver threw {e.GetType().Name}: {e.Message}\n---\n{Tail(prefix)}\n---");
                continue;
            }
            var result = run.Result.Results[0];
            generatedAny |= result.GeneratedSources.Length > 0;
            if (result.Exception is not null)
                failures.Add($"cut {cut}: generator threw {result.Exception}\n---\n{Tail(prefix)}\n---");
            var errors = run.Result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0 && result.Exception is null)
                failures.Add($"cut {cut}: generator errors:\n{GeneratorHarness.Format(errors)}\n---\n{Tail(prefix)}\n---");
        }

        Assert.That(failures, Is.Empty, $"{failures.Count} of {cuts.Count} prefixes failed:\n" + string.Join("\n", failures.Take(10)));
        Assert.That(generatedAny, Is.True, "no prefix generated anything: the test is not exercising the generator");
    }

    private static string Tail(string text) => text.Length <= 300 ? text : "…" + text.Substring(text.Length - 300);
}
