using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace ModelGen.Generators.Tests;

/// <summary>The incremental pipeline caches: the "ModelSpec" step and the source outputs are reused when nothing that
/// matters changed, and recomputed when the model changed.</summary>
public sealed class CachingTests
{
    private const string OtherV1 = "public class Other { int M() => 1; }";
    private const string OtherV2 = "public class Other { int M() => 2; }";

    private static readonly IncrementalStepRunReason[] Reused = { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged };

    private static IReadOnlyList<(string Step, IncrementalStepRunReason Reason)> SpecReasons(GeneratorRun run) =>
        run.Result.Results[0].TrackedSteps[ModelGenerator.SpecTrackingName]
            .SelectMany(step => step.Outputs).Select(o => (ModelGenerator.SpecTrackingName, o.Reason)).ToList();

    private static IReadOnlyList<(string Step, IncrementalStepRunReason Reason)> OutputReasons(GeneratorRun run) =>
        run.Result.Results[0].TrackedOutputSteps
            .SelectMany(kv => kv.Value.SelectMany(step => step.Outputs).Select(o => (kv.Key, o.Reason))).ToList();

    private static Dictionary<string, string> Sources(GeneratorRun run) =>
        run.Result.Results[0].GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    private static void AssertAllReused(IReadOnlyList<(string Step, IncrementalStepRunReason Reason)> reasons, string what)
    {
        Assert.That(reasons, Is.Not.Empty, $"no tracked outputs for {what}");
        var recomputed = reasons.Where(r => !Reused.Contains(r.Reason)).ToList();
        Assert.That(recomputed, Is.Empty, $"{what}: outputs not reused: " + string.Join(", ", recomputed.Select(r => $"{r.Step}={r.Reason}")));
    }

    [Test]
    public void RerunOnTheSameCompilationIsCached()
    {
        var compilation = GeneratorHarness.CreateCompilation(TestSources.FashionMlp, TestSources.Deep);
        var first = GeneratorHarness.Run(compilation);
        Assert.That(first.Result.Results[0].Exception, Is.Null);

        var second = GeneratorHarness.Run(first.Driver, compilation.Clone());

        Assert.That(second.Result.Results[0].Exception, Is.Null);
        AssertAllReused(SpecReasons(second), "ModelSpec");
        AssertAllReused(OutputReasons(second), "source outputs");
        Assert.That(Sources(second), Is.EqualTo(Sources(first)));
    }

    [Test]
    public void EditingAnUnrelatedMethodBodyKeepsTheSpecsCached()
    {
        var model = GeneratorHarness.Parse(TestSources.FashionMlp, "FashionMlp.cs");
        var other = GeneratorHarness.Parse(OtherV1, "Other.cs");
        var compilation = GeneratorHarness.CreateCompilation(new[] { model, other });
        var first = GeneratorHarness.Run(compilation);
        Assert.That(first.Result.Results[0].Exception, Is.Null);

        var edited = compilation.ReplaceSyntaxTree(other, GeneratorHarness.Parse(OtherV2, "Other.cs"));
        var second = GeneratorHarness.Run(first.Driver, edited);

        Assert.That(second.Result.Results[0].Exception, Is.Null);
        AssertAllReused(SpecReasons(second), "ModelSpec");
        AssertAllReused(OutputReasons(second), "source outputs");
        Assert.That(Sources(second), Is.EqualTo(Sources(first)), "the generated sources changed");
    }

    [Test]
    public void ChangingALayerSizeRecomputesTheOutput()
    {
        var model = GeneratorHarness.Parse(TestSources.FashionMlp, "FashionMlp.cs");
        var compilation = GeneratorHarness.CreateCompilation(new[] { model });
        var first = GeneratorHarness.Run(compilation);
        Assert.That(first.Result.Results[0].Exception, Is.Null);

        const string before = "fc2 = new(512, 512)";
        Assert.That(TestSources.FashionMlp, Does.Contain(before));
        var changedSource = TestSources.FashionMlp.Replace(before, "fc2 = new(512, 300)", StringComparison.Ordinal);
        var changed = compilation.ReplaceSyntaxTree(model, GeneratorHarness.Parse(changedSource, "FashionMlp.cs"));
        var second = GeneratorHarness.Run(first.Driver, changed);

        Assert.That(second.Result.Results[0].Exception, Is.Null);
        var spec = SpecReasons(second);
        Assert.That(spec.Count(r => r.Reason == IncrementalStepRunReason.Modified), Is.EqualTo(1),
            "expected FashionMlp's spec Modified (TimesTwoSum's reused): " + string.Join(", ", spec.Select(r => r.Reason)));
        Assert.That(OutputReasons(second).Select(r => r.Reason), Does.Contain(IncrementalStepRunReason.Modified));

        const string hint = "ModelGen.Tests.Models.FashionMlp.g.cs";
        Assert.That(Sources(second)[hint], Is.Not.EqualTo(Sources(first)[hint]), "the generated model did not change");
        // The unchanged model in the same file keeps its output.
        const string other = "ModelGen.Tests.Models.TimesTwoSum.g.cs";
        Assert.That(Sources(second)[other], Is.EqualTo(Sources(first)[other]));
    }
}
