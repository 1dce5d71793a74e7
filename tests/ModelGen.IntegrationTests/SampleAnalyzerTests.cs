using System.Text.RegularExpressions;

namespace ModelGen.IntegrationTests;

/// <summary>The samples run the analyzers as a user's project does: a shape mistake made in a copy of a sample's own
/// source fails `dotnet build` of the sample's own project file with MG0001, at the layer's use.</summary>
public class SampleAnalyzerTests
{
    [Test]
    public void FashionMnistSample_LastLayerWith300Inputs_FailsItsOwnBuildWithMG0001()
    {
        using var copy = SampleCopy.Create("FashionMnist");
        var text = copy.Edit("FashionMlp.cs", "fc3 = new(512, 10)", "fc3 = new(300, 10)");
        var (useLine, useColumn) = SampleCopy.LineColumn(text, text.IndexOf("fc3.Apply(", StringComparison.Ordinal));
        var (declLine, _) = SampleCopy.LineColumn(text, text.IndexOf("fc3 = new(300, 10)", StringComparison.Ordinal));

        var (code, output) = copy.Build();
        TestContext.Out.WriteLine(output);
        Assert.That(code, Is.Not.EqualTo(0), "the shape error fails the sample's build");
        Assert.That(output, Does.Contain($"FashionMlp.cs({useLine},{useColumn}): error MG0001: Linear layer 'fc3' expects input […, 300] but " +
            $"'Relu(fc2.Apply(Relu(…)))' has shape […, 512]; 'fc3' is declared at line {declLine}"), output);
        Assert.That(Regex.Matches(output, @"error MG\d{4}").Select(m => m.Value).Distinct(), Is.EqualTo(new[] { "error MG0001" }), "exactly the one mistake is reported");
    }

    [Test]
    public void FashionCnnSample_HeadSizedForAnotherImage_FailsItsOwnBuildNamingCxHxW()
    {
        using var copy = SampleCopy.Create("FashionCnn");
        var text = copy.Edit("FashionCnnModel.cs", "fc1 = new(64 * 7 * 7, 128)", "fc1 = new(64 * 8 * 8, 128)");
        var (useLine, useColumn) = SampleCopy.LineColumn(text, text.IndexOf("fc1.Apply(", StringComparison.Ordinal));
        var (declLine, _) = SampleCopy.LineColumn(text, text.IndexOf("fc1 = new(64 * 8 * 8, 128)", StringComparison.Ordinal));

        var (code, output) = copy.Build();
        TestContext.Out.WriteLine(output);
        Assert.That(code, Is.Not.EqualTo(0), "the shape error fails the sample's build");
        Assert.That(output, Does.Contain($"FashionCnnModel.cs({useLine},{useColumn}): error MG0001: Linear layer 'fc1' expects input […, 4096] but 'Flatten(h)' has shape [?, 3136]: " +
            $"Flatten makes C·H·W = 64·7·7 = 3136 features of [?, 64, 7, 7]; 'fc1' is declared at line {declLine}"), output);
        Assert.That(Regex.Matches(output, @"error MG\d{4}").Select(m => m.Value).Distinct(), Is.EqualTo(new[] { "error MG0001" }), "exactly the one mistake is reported");
    }

    [Test]
    public void EverySample_ImportsTheSharedPropsWithGeneratorAnalyzersAndCodeFixes()
    {
        var props = File.ReadAllText(Path.Combine(Repo.Root, "samples", "ModelGen.Samples.props"));
        foreach (var project in new[] { "ModelGen.Generators.csproj", "ModelGen.Analyzers.csproj", "ModelGen.Analyzers.CodeFixes.csproj" })
            Assert.That(Regex.IsMatch(props, $@"<ProjectReference Include=""[^""]*{Regex.Escape(project)}"" OutputItemType=""Analyzer"" ReferenceOutputAssembly=""false"" />"), Is.True, project);
        foreach (var csproj in Directory.EnumerateFiles(Path.Combine(Repo.Root, "samples"), "*.csproj", SearchOption.AllDirectories)
                     .Where(p => !p.Contains(".mutated-", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(csproj);
            Assert.That(text, Does.Contain(@"<Import Project=""..\ModelGen.Samples.props"" />"), csproj);
            // beside the shared props, a sample references only ModelGen's other packages (src/Runtime/ModelGen.*), as a
            // user's project adds PackageReference lines for ModelGen.Transformers or ModelGen.Plots
            foreach (Match reference in Regex.Matches(text, @"<ProjectReference Include=""([^""]*)"""))
                Assert.That(reference.Groups[1].Value, Does.Match(@"^\.\.\\\.\.\\src\\Runtime\\ModelGen\.(Transformers|Text|Distributed|Plots)\\ModelGen\.\1\.csproj$"), csproj);
        }
    }
}
