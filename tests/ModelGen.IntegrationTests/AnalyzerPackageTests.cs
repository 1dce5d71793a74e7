using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The analyzers as a user gets them: ModelGen packed with a unique version, consumed from a local feed by a
/// copy of the Fashion-MNIST sample, built with <c>dotnet build</c>. Unchanged it builds with no ModelGen diagnostic;
/// with the last layer changed from 512 to 300 inputs the build fails with MG0001 at that layer's use, naming its
/// declaration.</summary>
public class AnalyzerPackageTests
{
    [Test]
    public void FashionMnistSample_LastLayerWith300Inputs_FailsTheBuildWithMG0001()
    {
        var project = FreshPackageProject.Create("modelgen-analyzers", "FashionMnist", "ModelGen", "ModelGen.Plots");
        string app = project.App;
        var env = project.Environment;
        // the sample's own files and the code the Fashion samples share (samples/Shared, linked by their projects)
        foreach (var folder in new[] { "FashionMnist", "Shared" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "samples", folder), "*.cs"))
                File.Copy(file, Path.Combine(app, Path.GetFileName(file)));

        // unchanged: builds, and the analyzers (which ran: the package ships them) report nothing
        var (okCode, okOut) = Repo.Run("dotnet", "build -c Release", app, env);
        Assert.That(okCode, Is.EqualTo(0), okOut);
        Assert.That(okOut, Does.Not.Contain("MG0"), okOut);
        var analyzers = Path.Combine(FreshPackageProject.Packages, "modelgen", FreshPackageProject.Version, "analyzers", "dotnet", "cs");
        Assert.That(File.Exists(Path.Combine(analyzers, "ModelGen.Analyzers.dll")), Is.True, "the package ships the analyzers");
        Assert.That(File.Exists(Path.Combine(analyzers, "ModelGen.Analyzers.CodeFixes.dll")), Is.True, "and the code fixes");

        // the last layer of FashionMlp takes 300 inputs instead of fc2's 512
        var modelFile = Path.Combine(app, "FashionMlp.cs");
        var text = File.ReadAllText(modelFile);
        var declaration = text.IndexOf("fc3 = new(512, 10)", StringComparison.Ordinal);
        Assert.That(declaration, Is.GreaterThan(0));
        text = text.Substring(0, declaration) + "fc3 = new(300, 10)" + text.Substring(declaration + "fc3 = new(512, 10)".Length);
        File.WriteAllText(modelFile, text);
        var (useLine, useColumn) = SampleCopy.LineColumn(text, text.IndexOf("fc3.Apply(", StringComparison.Ordinal));
        var (declLine, _) = SampleCopy.LineColumn(text, declaration);

        var (failCode, failOut) = Repo.Run("dotnet", "build -c Release --no-restore", app, env);
        TestContext.Out.WriteLine(failOut);
        Assert.That(failCode, Is.Not.EqualTo(0), "the shape error fails the build");
        var expected = $"FashionMlp.cs({useLine},{useColumn}): error MG0001: Linear layer 'fc3' expects input […, 300] but 'Relu(fc2.Apply(Relu(…)))' has shape […, 512]; 'fc3' is declared at line {declLine}";
        Assert.That(failOut, Does.Contain(expected), failOut);
        Assert.That(Regex.Matches(failOut, @"error MG\d{4}").Select(m => m.Value).Distinct(), Is.EqualTo(new[] { "error MG0001" }), "exactly the one mistake is reported");
        Directory.Delete(project.Work, recursive: true);
    }
}
