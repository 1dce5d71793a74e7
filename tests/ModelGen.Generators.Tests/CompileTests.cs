using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>The generated code compiles cleanly against ModelGen.Runtime.</summary>
public sealed class CompileTests
{
    [TestCase(nameof(TestSources.FashionMlp))]
    [TestCase(nameof(TestSources.Deep))]
    [TestCase("Both")]
    public void GeneratedCodeCompilesWithoutErrorsOrWarnings(string which)
    {
        var sources = which switch
        {
            nameof(TestSources.FashionMlp) => new[] { TestSources.FashionMlp },
            nameof(TestSources.Deep) => new[] { TestSources.Deep },
            _ => new[] { TestSources.FashionMlp, TestSources.Deep },
        };
        var input = GeneratorHarness.CreateCompilation(sources);
        var inputProblems = input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var run = GeneratorHarness.Run(input);

        Assert.That(run.Result.Results[0].Exception, Is.Null, "the generator threw");
        Assert.That(run.Result.Diagnostics, Is.Empty, "generator diagnostics:\n" + GeneratorHarness.Format(run.Result.Diagnostics));
        Assert.That(run.Result.GeneratedTrees, Is.Not.Empty, "nothing was generated");

        var problems = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.That(problems, Is.Empty,
            $"the output compilation has {problems.Count} warning(s)/error(s):\n" + GeneratorHarness.Format(problems)
            + (inputProblems.Count > 0 ? "\n(errors of the input before generation:\n" + GeneratorHarness.Format(inputProblems) + ")" : ""));
    }

    [Test]
    public void EveryModelGetsAModelAndAKernelsFile()
    {
        var run = GeneratorHarness.Run(TestSources.FashionMlp, TestSources.Deep);
        var hints = run.Result.Results[0].GeneratedSources.Select(s => s.HintName).OrderBy(h => h, StringComparer.Ordinal).ToList();
        Assert.That(hints, Is.EquivalentTo(new[]
        {
            "ModelGen.IlgpuAccess.g.cs",
            "ModelGen.Tests.Models.FashionMlp.g.cs",
            "ModelGen.Tests.Models.FashionMlp.Kernels.g.cs",
            "ModelGen.Tests.Models.TimesTwoSum.g.cs",
            "ModelGen.Tests.Models.TimesTwoSum.Kernels.g.cs",
            "Samples.Deep.Block.g.cs",
            "Samples.Deep.Block.Kernels.g.cs",
            "Samples.Deep.Deep.g.cs",
            "Samples.Deep.Deep.Kernels.g.cs",
        }));
    }
}
