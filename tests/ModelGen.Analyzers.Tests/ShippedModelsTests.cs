namespace ModelGen.Analyzers.Tests;

/// <summary>No false positives: every sample and every model the repository ships or tests with produces no
/// diagnostic at all (the generator runs first, so the sources must also compile cleanly).</summary>
public sealed class ShippedModelsTests
{
    /// <summary>Folders of samples/ and the runtime tests with the files in them that declare a [Model] (analysed together,
    /// as a model may use a nested model or a type from a file beside it).</summary>
    public static IEnumerable<string> ModelFolders()
        => ModelFiles().Select(f => Path.GetDirectoryName(f)!).Distinct().OrderBy(f => f, StringComparer.Ordinal);

    public static IEnumerable<string> ModelFiles()
    {
        var root = RepoRoot();
        var sep = Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(Path.Combine(root, "samples"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "tests", "ModelGen.Runtime.Tests"), "*Models.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{sep}obj{sep}") && !f.Contains($"{sep}bin{sep}"))
            .Where(f => File.ReadAllText(f).Contains("[Model]"))
            .Select(f => Path.GetRelativePath(root, f))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
    }

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ModelGen.sln"))) return d.FullName;
        throw new InvalidOperationException("ModelGen.sln not found above " + AppContext.BaseDirectory);
    }

    [Test]
    public void TheSampleAndTheTestModelsAreFound()
    {
        var files = ModelFiles().ToList();
        Assert.That(files, Does.Contain(Path.Combine("samples", "FashionMnist", "FashionMlp.cs")));
        Assert.That(files, Has.Count.GreaterThanOrEqualTo(4), string.Join(", ", files));
    }

    [TestCaseSource(nameof(ModelFolders))]
    public Task HasNoDiagnostics(string folder)
    {
        var test = new ModelAnalyzerTest();
        foreach (var file in ModelFiles().Where(f => Path.GetDirectoryName(f) == folder))
            test.TestState.Sources.Add((Path.GetFileName(file), File.ReadAllText(Path.Combine(RepoRoot(), file))));
        return test.RunAsync();
    }

    [TestCase(nameof(Generators.Tests.TestSources.FashionMlp))]
    [TestCase(nameof(Generators.Tests.TestSources.Deep))]
    public Task GeneratorTestSourcesHaveNoDiagnostics(string which)
    {
        var test = new ModelAnalyzerTest();
        test.TestState.Sources.Add(("Model.cs", which == "Deep" ? Generators.Tests.TestSources.Deep : Generators.Tests.TestSources.FashionMlp));
        return test.RunAsync();
    }
}
