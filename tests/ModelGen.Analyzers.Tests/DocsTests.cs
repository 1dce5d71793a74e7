using Microsoft.CodeAnalysis;

namespace ModelGen.Analyzers.Tests;

/// <summary>Every diagnostic has its page (a wrong example and its fix), its help link, its release-tracking line and
/// its row in the index.</summary>
public sealed class DocsTests
{
    private static IEnumerable<DiagnosticDescriptor> Descriptors() => new ModelAnalyzer().SupportedDiagnostics;

    private static string Docs => Path.Combine(ShippedModelsTests.RepoRoot(), "docs", "diagnostics");

    [Test]
    public void AtLeastTenPages()
        => Assert.That(Directory.GetFiles(Docs, "MG*.md"), Has.Length.GreaterThanOrEqualTo(10));

    [TestCaseSource(nameof(Descriptors))]
    public void HasAPageAHelpLinkAndReleaseTracking(DiagnosticDescriptor descriptor)
    {
        var page = Path.Combine(Docs, descriptor.Id + ".md");
        Assert.That(File.Exists(page), Is.True, page);
        var text = File.ReadAllText(page);
        Assert.That(text, Does.StartWith($"# {descriptor.Id}: "));
        Assert.That(text, Does.Contain("## Wrong").And.Contain("## Fix"));
        Assert.That(descriptor.HelpLinkUri, Does.EndWith($"docs/diagnostics/{descriptor.Id}.md"));
        Assert.That(File.ReadAllText(Path.Combine(Docs, "README.md")), Does.Contain($"[{descriptor.Id}]({descriptor.Id}.md)"));
        var unshipped = File.ReadAllText(Path.Combine(ShippedModelsTests.RepoRoot(), "src", "Analyzers", "AnalyzerReleases.Unshipped.md"));
        Assert.That(unshipped, Does.Contain($"{descriptor.Id} | {descriptor.Category} | {descriptor.DefaultSeverity} |"));
    }
}
